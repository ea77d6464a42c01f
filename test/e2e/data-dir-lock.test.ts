/**
 * One server per data directory (DESIGN.md §2; a newcomer's try-out found two `serve` processes on
 * one `--data` both accepting writes). The second start is refused with CV-1006 and exit 70 while
 * the first keeps serving; a SIGKILLed holder leaves no stale lock behind, so a restart after a
 * crash needs no operator step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, BIN, createVault, ServerProc, tempDir, waitFor } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';

function community(name: string, dataDir: string, port: number): ServerProc {
  return new ServerProc(name, BIN.community, ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`], port, dataDir);
}

test('a second server on the same data directory is refused; a killed holder leaves no stale lock', async (t) => {
  const tmp = tempDir();
  const data = join(tmp.dir, 'data');
  const first = community('first', data, await freePort());
  const second = community('second', data, await freePort());
  t.after(async () => { await first.kill(); await second.kill(); tmp.cleanup(); });

  await first.start();
  const { owner } = await createVault(first.url, first.adminToken());

  await assert.rejects(second.start(), /exited 70/);
  assert.match(second.stderr, /CV-1006/);
  assert.match(second.stderr, new RegExp(`pid ${first.proc!.pid}\\b`));
  // The refused start wrote nothing and the holder still takes writes.
  const w = await api(first.url, 'POST', '/api/entries', { token: owner, body: { title: 'after the refused start', fields: [{ label: 'k', value: 'v' }] } });
  assert.equal(w.status, 201);

  await first.kill('SIGKILL');
  // A port taken a moment before the start: the one picked at the top may have been handed out
  // since as the local port of some connection (CI failed once with CV-1005 here).
  const restarted = community('restarted', data, await freePort());
  t.after(() => restarted.kill());
  await restarted.start();
  const back = await waitFor('the entry through the restarted server', async () => {
    const r = await api(restarted.url, 'GET', `/api/entries/${w.json.id}`, { token: owner });
    return r.status === 200 ? r : undefined;
  });
  assert.equal(back.json.title, 'after the refused start');
});
