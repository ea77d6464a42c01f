/**
 * Failed-authentication timing (issue 13 §2): the time `authenticate()` takes to refuse
 * (a) a token naming a vault that does not exist, (b) a token naming a real vault but an unknown
 * token id, and (c) a real vault and token id with a wrong secret. The three should cost the same
 * work, so a caller cannot tell from timing which part of a guessed token was right.
 *
 * Real storage (a temp data directory), no HTTP, the three cases interleaved; `samples` per case
 * (default 2,500) after 200 warm-up calls each. Prints median, mean and p90 in microseconds.
 *
 *   npm run build && node dist/bench/client/auth-timing.js [samples]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openNodeStore } from '../../src/store/node-store.js';
import { createVaultFiles } from '../../src/store/vault-files.js';
import { createRevisionWriter } from '../../src/vault/writer.js';
import { createVaultService } from '../../src/vault/vault-service.js';
import { NO_HOOKS } from '../../src/vault/writer.js';
import { newTokenId, newVaultId } from '../../src/lib/ids.js';

const samples = Number(process.argv[2] ?? 2500);
const dir = mkdtempSync(join(tmpdir(), 'clavitor-auth-timing-'));
const node = openNodeStore(dir);
const files = createVaultFiles(dir);
const now = () => new Date();
const writer = createRevisionWriter({ hooks: NO_HOOKS, identity: () => ({ popId: 'standalone', epoch: 0 }), now });
const vaults = createVaultService({ node, files, writer, now });
const { ownerToken } = await vaults.createVault();
const [, vaultId, tokenId] = ownerToken.split('.');
const secret = () => randomBytes(32).toString('base64url');
const cases: Record<string, () => string> = {
  unknown_vault: () => `cvt1.${newVaultId()}.${newTokenId()}.${secret()}`,
  unknown_token: () => `cvt1.${vaultId}.${newTokenId()}.${secret()}`,
  wrong_secret: () => `cvt1.${vaultId}.${tokenId}.${secret()}`,
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const once = (make: () => string): number => {
  const text = make();
  const t0 = process.hrtime.bigint();
  try {
    vaults.authenticate(text);
  } catch {
    // expected: AUTH_INVALID
  }
  return Number(process.hrtime.bigint() - t0) / 1000;
};
for (let i = 0; i < 200; i++) for (const make of Object.values(cases)) once(make);
for (let i = 0; i < samples; i++) for (const [k, make] of Object.entries(cases)) times[k]!.push(once(make));
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
for (const [k, xs] of Object.entries(times)) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  process.stdout.write(`${k.padEnd(14)} n=${xs.length} median=${q(xs, 0.5).toFixed(1)}µs mean=${mean.toFixed(1)}µs p90=${q(xs, 0.9).toFixed(1)}µs\n`);
}
files.closeAll();
node.close();
rmSync(dir, { recursive: true, force: true });
