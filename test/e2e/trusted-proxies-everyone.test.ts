/**
 * `trusted_proxies: 0.0.0.0/0` (or `--trusted-proxies 0.0.0.0/0`) lets every client name its own
 * address in X-Forwarded-For; it is accepted but never silently (a newcomer's try-out found no
 * word of it). docs/security.md names the warning's event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BIN, ServerProc, tempDir, waitFor } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';

test('trusting every address as a proxy is logged as a warning at start; a narrow range is not', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  for (const [ranges, warned] of [['0.0.0.0/0', true], ['10.0.0.0/8,::/0', true], ['10.0.0.0/8', false]] as const) {
    const port = await freePort();
    const data = join(tmp.dir, `data-${port}`);
    const srv = new ServerProc('community', BIN.community, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--trusted-proxies', ranges], port, data);
    await srv.start();
    await waitFor('the start-up log', () => srv.logLines().some((l) => l.event === 'server.listening'));
    const warnings = srv.logLines().filter((l) => l.event === 'config.trusted_proxies_everyone');
    await srv.kill();
    assert.equal(warnings.length, warned ? 1 : 0, `${ranges}: ${warnings.length} warnings`);
    if (warned) assert.equal(warnings[0]!.level, 40);
  }
});
