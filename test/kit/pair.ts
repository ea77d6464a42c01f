/**
 * Pair choreography for e2e tests (issue 16 item 4): the preamble most pair tests share (a running
 * pair, optionally behind a TCP fault proxy, with one vault on the primary and a first replicated
 * entry) and the manual failover steps of docs/operations.md (promote by editing the role in
 * replication.yaml and SIGHUP; the `promote --force` override over a live primary, DESIGN.md §4.5).
 * Each step asserts what the tests asserted inline before.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TcpProxy } from './tcp-proxy.js';
import { controlPlaneBlock, FAST_CONFIG, startedControl, type ControlFixture, type ControlProc } from './control.js';
import { api, createVault, provisionPair, runCommercial, runningPair, runningPairBehindProxy, waitFor, type ApiResponse, type Pair, type PairOptions, type ServerProc } from './pop.js';

/** What `runningPair`'s `t` needs: an `after` hook. */
type TestContext = { after(fn: () => Promise<void>): void };

/** A running pair with a vault on the primary: calgary-01 is the primary, zurich-01 the backup. */
export interface VaultPair {
  pair: Pair;
  calgary: ServerProc;
  zurich: ServerProc;
  /** Base URLs of calgary-01 and zurich-01. */
  C: string;
  Z: string;
  vaultId: string;
  /** The vault's owner token. */
  owner: string;
}

function withVault(pair: Pair, v: { vaultId: string; owner: string }): VaultPair {
  const { primary: calgary, backup: zurich } = pair;
  return { pair, calgary, zurich, C: calgary.url, Z: zurich.url, ...v };
}

/** `runningPair` plus a vault created on the primary. */
export async function vaultOnPair(t: TestContext, opts: PairOptions = {}): Promise<VaultPair> {
  const pair = await runningPair(t, opts);
  return withVault(pair, await createVault(pair.primary.url, pair.primary.adminToken()));
}

/** `runningPairBehindProxy` plus a vault created on the primary. */
export async function vaultOnPairBehindProxy(t: TestContext, opts: Omit<PairOptions, 'backupReachPort'> = {}): Promise<VaultPair & { proxy: TcpProxy }> {
  const { pair, proxy } = await runningPairBehindProxy(t, opts);
  return { ...withVault(pair, await createVault(pair.primary.url, pair.primary.adminToken())), proxy };
}

/**
 * Creates an entry `body` on `primary` with `token` (the owner's), asserts 201, and waits until the
 * primary's backlog is empty (the backup acknowledged it); `what` names the wait in a timeout.
 */
export async function writeReplicated(primary: ServerProc, token: string, body: unknown, what = 'replicated'): Promise<ApiResponse> {
  const r = await api(primary.url, 'POST', '/api/entries', { token, body });
  assert.equal(r.status, 201);
  await waitFor(what, async () => (await primary.status()).replication.backlog === 0);
  return r;
}

/**
 * The planned promotion: `which` POP's replication.yaml is rewritten with role primary and the POP
 * is sent SIGHUP; resolves with its `/api/status` once it is primary and accepts writes
 * (`<name> promoted`, `timeoutMs` milliseconds).
 */
export async function promoteByFile(pair: Pair, which: 'primary' | 'backup', timeoutMs?: number): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const pop = pair[which];
  pair.writeConfig(which, pair.yamlFor(which, 'primary'));
  pop.signal('SIGHUP');
  return waitFor(`${pop.name.slice(0, pop.name.indexOf('-'))} promoted`, async () => {
    const s = await pop.status();
    return s.role === 'primary' && s.accepting_writes ? s : undefined;
  }, timeoutMs);
}

/**
 * Promotes the backup (zurich-01) while calgary-01 is a live primary: the file edit and SIGHUP make
 * zurich hold (`peer_is_primary`, CV-5017), then the operator's `promote --force` (asserted exit 0)
 * promotes it; resolves once zurich accepts writes.
 */
export async function forcePromoteBackup(pair: Pair): Promise<void> {
  const zurich = pair.backup;
  pair.writeConfig('backup', pair.yamlFor('backup', 'primary'));
  zurich.signal('SIGHUP');
  await waitFor('zurich held: calgary is a live primary', async () => (await zurich.status()).hold?.reason === 'peer_is_primary');
  const forced = await runCommercial(['promote', '--force', '--url', zurich.url, '--admin-token-file', join(zurich.dataDir, 'admin.token')]);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  await waitFor('zurich promoted', async () => (await zurich.status()).accepting_writes === true);
}

/**
 * A started control plane (`config`, default FAST_CONFIG) and a provisioned pair (not started) whose
 * replication.yaml files both carry its `control_plane` block; all stopped and removed when `t` ends.
 */
export async function pairUnderControl(t: TestContext, config: Record<string, number> = FAST_CONFIG): Promise<{ pair: Pair; cp: ControlProc; fx: ControlFixture }> {
  const { fx, cp } = await startedControl(config);
  const pair = await provisionPair();
  t.after(async () => {
    await pair.stop();
    await cp.kill();
    fx.cleanup();
  });
  pair.writeConfig('primary', pair.yamlFor('primary', 'primary') + controlPlaneBlock(fx, cp.port));
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup') + controlPlaneBlock(fx, cp.port));
  return { pair, cp, fx };
}
