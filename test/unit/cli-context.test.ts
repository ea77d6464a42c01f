/**
 * `clavitor-cli` talks to a second POP (quarantine restore writes on the primary named by the
 * backup) with the same trust as its configured server: `--ca-file`, `CLAVITOR_CA_FILE`, or the
 * `ca_file` saved by init (docs/cli.md, issue 11 item 4). Found by the newcomer try-out: the saved
 * `ca_file` was ignored for the second POP, so a restore on a private CA failed without a flag.
 * A real HTTPS server on loopback with a certificate from a private CA made for the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { contextOf } from '../../src/bin/cli/context.js';
import { saveConfig } from '../../src/bin/cli/config.js';
import { tempDir } from '../kit/pop.js';
import { issue, makeCa, writePem } from '../kit/pki.js';

test('clientAt trusts the ca_file saved by init, like the configured server', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const ca = await makeCa();
  const leaf = await issue(ca, 'zurich-01');
  const caPath = writePem(dir, 'ca', ca).cert;
  const server = createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const env = { XDG_CONFIG_HOME: `${dir}/xdg` } as NodeJS.ProcessEnv;
  saveConfig({ server: url, token: 'cvt1.placeholder', ca_file: caPath }, env);
  const ctx = contextOf(new Command('clavitor-cli'), env);
  assert.deepEqual(await ctx.client().call('GET', '/healthz'), { ok: true }, 'the configured server is trusted through the saved ca_file');
  assert.deepEqual(await ctx.clientAt(url).call('GET', '/healthz'), { ok: true }, 'a second POP under the same private CA is trusted too');
});
