/**
 * Case F5 (DESIGN.md §4.2 "at most two [tokens], for rotation: the first is sent, every listed one
 * is accepted"; §4.4.10 reload): the replication token is rotated on both POPs, one after the
 * other, by editing the token files and sending SIGHUP, under continuous writes. Replication
 * continues without a restart, no request is refused, and every write arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, createVault, provisionPair, sleep, waitFor } from '../kit/pop.js';
import { generateToken, writeKeyFile } from '../../src/config/keygen.js';
import { readFileSync } from 'node:fs';

test('case F5: rotating the replication token with SIGHUP keeps replication going', async (t) => {
  const pair = await provisionPair({ maxRetries: 5 });
  t.after(() => pair.stop());
  // Each POP has its own copy of the token file, as in the seed's provisioning.
  const pKey = join(pair.dir, 'calgary.key');
  const bKey = join(pair.dir, 'zurich.key');
  writeKeyFile(pKey);
  const A = readFileSync(pKey, 'utf8').trim();
  writeFileSync(bKey, `${A}\n`, { mode: 0o600 });
  pair.writeConfig('primary', pair.yamlFor('primary', 'primary').replaceAll(pair.keyFile, pKey));
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup').replaceAll(pair.keyFile, bKey));
  await pair.backup.start();
  await pair.primary.start();
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken());

  const acked: string[] = [];
  let stop = false;
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const r = await api(P, 'POST', '/api/entries', { token: owner, body: { title: `w${i}` } });
      assert.equal(r.status, 201);
      acked.push(r.json.id);
      await sleep(20);
    }
  })();

  const B_ = generateToken();
  const reload = async (file: string, text: string, which: 'primary' | 'backup') => {
    writeFileSync(file, text);
    const proc = which === 'primary' ? pair.primary : pair.backup;
    const n = proc.logLines().filter((l) => l.event === 'pop.reloaded').length;
    proc.signal('SIGHUP');
    await waitFor(`${which} reloaded`, () => proc.logLines().filter((l) => l.event === 'pop.reloaded').length > n);
    // Writes keep flowing through every step: wait for a few more acknowledged writes (a condition,
    // not a time: on a loaded machine a fixed pause may see none).
    const w = acked.length;
    await waitFor(`writes after the ${which} reload`, () => acked.length >= w + WRITES_PER_STEP);
    steps++;
  };
  const WRITES_PER_STEP = 8;
  let steps = 0;
  // 1. Accept both everywhere (A still sent).
  await reload(bKey, `${A}\n${B_}\n`, 'backup');
  await reload(pKey, `${A}\n${B_}\n`, 'primary');
  // 2. Send B everywhere (A still accepted).
  await reload(bKey, `${B_}\n${A}\n`, 'backup');
  await reload(pKey, `${B_}\n${A}\n`, 'primary');
  // 3. Retire A.
  await reload(bKey, `${B_}\n`, 'backup');
  await reload(pKey, `${B_}\n`, 'primary');
  stop = true;
  await writer;

  await waitFor('backlog drained', async () => (await pair.primary.status()).replication.backlog === 0);
  for (const id of acked) assert.equal((await api(B, 'GET', `/api/entries/${id}`, { token: owner })).status, 200, id);
  assert.equal(steps, 6);
  assert.ok(acked.length >= steps * WRITES_PER_STEP, `writes during rotation: ${acked.length}`);
  const st = await pair.primary.status();
  assert.equal(st.replication.retries, 0, 'no push was refused during the rotation');
  assert.equal(pair.backup.logLines().filter((l) => l.event === 'replication.auth_failed').length, 0);
  assert.equal(pair.primary.logLines().filter((l) => l.event === 'replication.auth_failed').length, 0);
  // The retired token no longer works.
  const old = await api(B, 'GET', '/replication/v1/epoch', { token: A });
  assert.equal(old.status, 401);
  const fresh = await api(B, 'GET', '/replication/v1/epoch', { token: B_ });
  assert.equal(fresh.status, 200);
});
