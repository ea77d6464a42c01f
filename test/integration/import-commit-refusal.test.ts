/**
 * Issue 15, "nothing is half-imported", at commit time: `POST /api/import` writes its entries as
 * one group-commit job (vault/writer.ts `appendAll`). When the edition refuses a write inside that
 * job — what a POP does when it stops taking writes between the request's admission and its commit
 * (a demotion, a drain, a lost lease: `beforeCommit`) — on the 3rd of 4 revisions, the whole import
 * rolls back: no entry, no audit record `entry.import`, and the next write gets the next seq as if
 * the import had never run. A real server over a real data directory; only the edition's hook is
 * this test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClavitorError, Errors } from '../../src/lib/errors.js';
import { createCommunityEdition } from '../../src/edition/community.js';
import type { Edition } from '../../src/edition/edition.js';
import { auditOf, newVault, startTestServer } from '../kit/in-process.js';

test('a refusal at commit time of the 3rd revision of an import leaves nothing of it', async (t) => {
  let calls = 0;
  let refuseAt = 0;
  const edition = (): Edition => {
    const base = createCommunityEdition();
    return {
      ...base,
      hooks: {
        beforeCommit() {
          calls++;
          if (calls === refuseAt) throw new ClavitorError(Errors.DRAINING);
        },
        afterCommit() {},
      },
    };
  };
  const s = await startTestServer({ edition });
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const first = await s.call('POST', '/api/entries', { token: owner, body: { title: 'before' } });
  assert.equal(first.status, 201);

  const entries = [{ ref: 'f', type: 'folder', title: 'F' }, { parent_ref: 'f', title: 'one' }, { parent_ref: 'f', title: 'two' }, { title: 'three' }];
  refuseAt = calls + 3;
  const r = await s.call('POST', '/api/import', { token: owner, body: { entries } });
  assert.deepEqual([r.status, r.json.error.code], [503, 'CV-5008']);
  assert.equal(calls, refuseAt, 'the refusal came on the 3rd revision, after two were applied in the savepoint');
  const list = await s.call('GET', '/api/entries', { token: owner });
  assert.deepEqual(list.json.entries.map((e: { title: string }) => e.title), ['before']);
  assert.equal((await auditOf(s, owner)).filter((a) => a.action === 'entry.import').length, 0, 'no audit record of the rolled-back import');

  // The seqs the rolled-back revisions had are free again: the next write is the next version.
  const next = await s.call('POST', '/api/entries', { token: owner, body: { title: 'after' } });
  assert.equal(next.json.version, first.json.version + 1);
  // And the same import then goes through whole.
  const ok = await s.call('POST', '/api/import', { token: owner, body: { entries } });
  assert.equal(ok.status, 201);
  assert.deepEqual(ok.json.created.map((c: { version: number }) => c.version), [2, 3, 4, 5].map((d) => first.json.version + d));
  assert.equal((await auditOf(s, owner)).filter((a) => a.action === 'entry.import').length, 4);
});
