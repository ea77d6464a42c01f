/**
 * `npm run demo`: a commercial POP pair on loopback, end to end, with real processes.
 *
 * Provisions calgary-01 (primary) and zurich-01 (backup) under `.demo/` the way the seed's
 * "Example POP Provisioning" does (keygen, copy the key, write replication.yaml, check-config),
 * starts both, writes through Calgary and reads through Zurich while measuring replication lag,
 * shows an update, a delete, a refused write on the backup and both status documents, then
 * stops both with SIGTERM.
 *
 * Exit status: 0 when every step behaved as DESIGN.md says; 1 on the first failure (both POPs
 * are stopped first); 130/143 when interrupted. No POP process outlives the demo, and tokens are
 * only ever printed masked (`cvt1.v_…`).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Errors } from '../src/lib/errors.js';
import { call, describeReply, pollUntil, type Reply } from './demo/http.js';
import { command, detail, line, mask, registerSecret, step } from './demo/output.js';
import { describeExit, livePops, PopProcess, startedPops } from './demo/pop-process.js';
import { backupYaml, primaryYaml, runCli, type PopLayout } from './demo/provision.js';
import { freePorts } from '../test/kit/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO_DIR = join(ROOT, '.demo');
const CLI = join(ROOT, 'dist/src/bin/clavitor-commercial.js');
const TOTAL_STEPS = 8;
/** Milliseconds a failure report waits so that a Ctrl-C that caused it is reported as such. */
const SIGNAL_SETTLE_MS = 150;

const PRIMARY_LINE = 'Commercial edition: primary POP, replicating to zurich-01';
const BACKUP_LINE = 'Commercial edition: backup POP, accepting replication from primary';

/** A field as the demo writes it. */
interface DemoField {
  label: string;
  value: string;
  kind: string;
  tier: 'agent' | 'owner';
}

/** An entry as the demo writes it. */
interface DemoEntry {
  type: string;
  title: string;
  fields: DemoField[];
}

/** A field of the sample entries: label, value, kind, tier. */
const field = (label: string, value: string, kind: string, tier: DemoField['tier']): DemoField => ({ label, value, kind, tier });

/** Sample entries: obviously fake values (the AWS pair is AWS's own documentation example). */
const ENTRIES: readonly DemoEntry[] = [
  { type: 'credential', title: 'GitHub', fields: [
    field('username', 'octo-demo', 'text', 'agent'),
    field('password', 'correct-horse-battery-staple', 'password', 'agent'),
    field('recovery code', '4f9c-2b1e-88a0-d3c7', 'password', 'owner'),
  ] },
  { type: 'credential', title: 'AWS deploy key', fields: [
    field('access key id', 'AKIAIOSFODNN7EXAMPLE', 'text', 'agent'),
    field('secret access key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'password', 'agent'),
    field('region', 'ca-central-1', 'text', 'agent'),
  ] },
  { type: 'note', title: 'On-call note', fields: [field('note', 'Break-glass: page the vault owner before rotating the AWS key.', 'text', 'owner')] },
];

/** Path relative to the repository root, for display. */
const rel = (p: string): string => relative(ROOT, p) || '.';
/** Milliseconds with one decimal. */
const ms = (n: number): string => `${n.toFixed(1)} ms`;

/** Fails the demo with `message` unless `ok`. */
function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** Runs the built clavitor-commercial CLI, showing the command and its stdout. */
async function cli(args: string[]): Promise<string> {
  command(['node', rel(CLI), ...args]);
  const { stdout } = await runCli([process.execPath, CLI, ...args], ROOT);
  for (const l of stdout.trim().split('\n')) if (l) detail(l.split(`${ROOT}/`).join(''), 1);
  return stdout;
}

/** Lays out `.demo/<name>/{etc,data}` for one POP. */
function layout(name: string, port: number): PopLayout {
  const root = join(DEMO_DIR, name);
  const etc = join(root, 'etc');
  const data = join(root, 'data');
  mkdirSync(etc, { recursive: true, mode: 0o700 });
  mkdirSync(data, { recursive: true, mode: 0o700 });
  return { name, root, etc, data, config: join(etc, 'replication.yaml'), keyFile: join(etc, 'replication.key'), signingKeyFile: join(etc, 'signing.key'), publicKey: '', logFile: join(root, 'pop.log'), port };
}

/** Octal permission bits of a file, e.g. `0600`. */
function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
}

/** Prints an entry's title and fields as read back. */
function showEntry(entry: { title: string; version: number; fields: { label: string; tier: string; value?: string; redacted?: boolean }[] }, depth: number): void {
  detail(`title "${entry.title}", version ${entry.version}`, depth);
  const width = Math.max(...entry.fields.map((f) => f.label.length), 0);
  for (const f of entry.fields) detail(`${f.label.padEnd(width)}  [${f.tier}]  ${f.redacted ? '(redacted)' : f.value}`, depth + 1);
}

/** True when `got` holds exactly the labels and values of `want`. */
function sameFields(got: { label: string; value?: string }[], want: readonly DemoField[]): boolean {
  return got.length === want.length && want.every((w, i) => got[i]?.label === w.label && got[i]?.value === w.value);
}

/** A reply that means "not replicated yet" on the backup: vault unknown (401) or entry absent (404). */
const notYet = (r: Reply): boolean => r.status === 401 || r.status === 404;

/** Compact two-line rendering of a `GET /api/status` body. */
function statusLines(name: string, s: {
  role: string; epoch: number; region: string;
  replication: { peer: string | null; state: string; backlog: number; pushes_sent: number; pushes_received: number; lag_seconds: number; last_ack_at: string | null };
}): string {
  const r = s.replication;
  return `${name}: role ${s.role}, epoch ${s.epoch}, region ${s.region}, peer ${r.peer ?? '-'}\n` +
    `  replication: state ${r.state}, backlog ${r.backlog}, pushes sent ${r.pushes_sent} / received ${r.pushes_received}, ` +
    `lag ${r.lag_seconds} s, last ack ${r.last_ack_at ?? '-'}`;
}

/** The whole demo; throws on the first thing that does not behave as designed. */
async function runDemo(): Promise<string> {
  const t0 = performance.now();
  line('Clavitor commercial edition: POP pair demo (calgary-01 primary -> zurich-01 backup, loopback)');

  // 1. Working directory and ports.
  step(1, TOTAL_STEPS, 'Fresh working directory and two free loopback ports');
  check(existsSync(CLI), `${rel(CLI)} is missing: run "npm run build" first`);
  const hadOld = existsSync(DEMO_DIR);
  rmSync(DEMO_DIR, { recursive: true, force: true });
  detail(hadOld ? 'removed the previous .demo/' : 'no previous .demo/ to remove');
  const [calgaryPort, zurichPort] = await freePorts(2);
  const calgary = layout('calgary-01', calgaryPort!);
  const zurich = layout('zurich-01', zurichPort!);
  detail(`${rel(calgary.root)}/{etc,data}  127.0.0.1:${calgary.port}  primary, north-america`);
  detail(`${rel(zurich.root)}/{etc,data}   127.0.0.1:${zurich.port}  backup, europe`);

  // 2. Provisioning, as in the seed.
  step(2, TOTAL_STEPS, 'Provision the pair (seed: "Example POP Provisioning")');
  detail('calgary-01: generate the replication token');
  await cli(['keygen', '--out', rel(calgary.keyFile)]);
  const token = readFileSync(calgary.keyFile, 'utf8').trim();
  registerSecret(token);
  detail('zurich-01: same token (shared secret for inter-POP auth)');
  command(['cp', '-p', rel(calgary.keyFile), rel(zurich.keyFile)]);
  copyFileSync(calgary.keyFile, zurich.keyFile);
  chmodSync(zurich.keyFile, statSync(calgary.keyFile).mode & 0o777);
  check(readFileSync(zurich.keyFile, 'utf8').trim() === token, 'the copied key differs from the original');
  const modes = [modeOf(calgary.keyFile), modeOf(zurich.keyFile)];
  check(modes.every((m) => m === '0600'), `key files must be mode 0600, found ${modes.join(' and ')}`);
  detail(`both key files mode ${modes[0]}, same token ${mask(token)} (${token.length} chars)`, 1);
  // Each POP's own signing key (issue 13 §1): the token alone cannot fence a POP or change a backup.
  for (const pop of [calgary, zurich]) {
    detail(`${pop.name}: generate its signing key; the other POP pins the public key printed`);
    const out = await cli(['keygen', '--signing-key', '--out', rel(pop.signingKeyFile)]);
    const pub = /clavitor-ed25519-v1-[A-Za-z0-9_-]{43}/.exec(out)?.[0];
    check(pub !== undefined, 'keygen --signing-key printed no public key');
    pop.publicKey = pub!;
  }

  writeFileSync(calgary.config, primaryYaml(calgary, { region: 'north-america', backup: zurich }), { mode: 0o600 });
  writeFileSync(zurich.config, backupYaml(zurich, { region: 'europe', primary: calgary }), { mode: 0o600 });
  for (const pop of [calgary, zurich]) {
    detail(`${pop.name}: ${rel(pop.config)}`);
    detail(readFileSync(pop.config, 'utf8').trimEnd(), 2);
    await cli(['check-config', '--replication-config', rel(pop.config)]);
  }

  // 3. Start both POPs, backup first.
  step(3, TOTAL_STEPS, 'Start both POPs as child processes (zurich-01 first)');
  const pops: Record<string, PopProcess> = {};
  for (const [pop, expected] of [[zurich, BACKUP_LINE], [calgary, PRIMARY_LINE]] as const) {
    const args = ['serve', '--data', rel(pop.data), '--listen', `127.0.0.1:${pop.port}`, '--replication-config', rel(pop.config)];
    const proc = new PopProcess({ name: pop.name, bin: CLI, args, cwd: ROOT, dataDir: pop.data, port: pop.port, logFile: pop.logFile });
    pops[pop.name] = proc;
    command(['node', rel(CLI), ...args]);
    const t = performance.now();
    const startup = await proc.start();
    detail(`pid ${proc.pid}, up in ${ms(performance.now() - t)}, JSON logs in ${rel(pop.logFile)}`, 1);
    detail(`stdout: ${startup}`, 1);
    check(startup === expected, `${pop.name} printed an unexpected startup line: "${startup}" (expected "${expected}")`);
  }
  const P = pops['calgary-01']!;
  const B = pops['zurich-01']!;

  // 4. Vault and entries on Calgary, read back on Zurich.
  step(4, TOTAL_STEPS, 'Create a vault and 3 entries on calgary-01, read them on zurich-01');
  detail('replication lag = time from calgary-01\'s answer to zurich-01\'s first matching answer (polled every 5 ms)');
  const admin = P.adminToken();
  registerSecret(admin);
  registerSecret(B.adminToken());
  detail(`admin token from ${rel(join(calgary.data, 'admin.token'))}: ${mask(admin)}`);
  const vault = await call(P.url, 'POST', '/api/vaults', { token: admin });
  check(vault.status === 201, `POST /api/vaults on calgary-01: ${describeReply(vault)}`);
  const owner: string = vault.json.owner_token;
  registerSecret(owner);
  detail(`calgary-01  POST /api/vaults -> 201  vault_id ${vault.json.vault_id}, owner token ${mask(owner)}`);
  // The owner token works on zurich-01 once the vault has replicated (401 until then). Waiting for
  // it here also opens the vault on zurich-01, so the per-entry lags below are not first-read costs.
  const vaultSeen = await pollUntil('the vault on zurich-01', () => call(B.url, 'GET', '/api/entries', { token: owner }), (r) => r.status === 200, (r) => r.status === 401, vault.atMs);
  detail(`zurich-01   GET /api/entries -> 200  the owner token works there too, after ${ms(vaultSeen.elapsedMs)}`);

  const lags: number[] = [];
  const ids: string[] = [];
  const versions: number[] = [];
  for (const e of ENTRIES) {
    const created = await call(P.url, 'POST', '/api/entries', { token: owner, body: e });
    check(created.status === 201, `POST /api/entries "${e.title}" on calgary-01: ${describeReply(created)}`);
    const id: string = created.json.id;
    ids.push(id);
    versions.push(created.json.version);
    detail(`"${e.title}" [${e.type}]`);
    detail(`calgary-01  POST /api/entries -> 201  id ${id}, version ${created.json.version}`, 1);
    const seen = await pollUntil(`"${e.title}" on zurich-01`, () => call(B.url, 'GET', `/api/entries/${id}`, { token: owner }), (r) => r.status === 200, notYet, created.atMs);
    lags.push(seen.elapsedMs);
    detail(`zurich-01   GET /api/entries/${id} -> 200  replication lag ${ms(seen.elapsedMs)} (${seen.polls} poll${seen.polls === 1 ? '' : 's'})`, 1);
    showEntry(seen.reply.json, 2);
    check(seen.reply.json.title === e.title && sameFields(seen.reply.json.fields, e.fields), `zurich-01 returned different content for "${e.title}"`);
    check(seen.reply.json.version === created.json.version, `zurich-01 has version ${seen.reply.json.version} of "${e.title}", calgary-01 wrote ${created.json.version}`);
  }

  // 5. Update one entry, delete another.
  step(5, TOTAL_STEPS, 'Update and delete on calgary-01, watch zurich-01 follow');
  const [githubId, , noteId] = ids;
  const github = ENTRIES[0]!;
  const rotated: DemoEntry = { ...github, fields: github.fields.map((f) => (f.label === 'password' ? { ...f, value: 'tr0ub4dor-and-3-rotated' } : f)) };
  const putReply = await call(P.url, 'PUT', `/api/entries/${githubId}`, { token: owner, headers: { 'if-match': `"${versions[0]}"` }, body: rotated });
  check(putReply.status === 200, `PUT /api/entries/${githubId} on calgary-01: ${describeReply(putReply)}`);
  const newVersion: number = putReply.json.version;
  detail(`"${github.title}": rotate the password`);
  detail(`calgary-01  PUT /api/entries/${githubId}  If-Match: "${versions[0]}" -> 200  version ${newVersion}`, 1);
  const updated = await pollUntil(`version ${newVersion} on zurich-01`, () => call(B.url, 'GET', `/api/entries/${githubId}`, { token: owner }),
    (r) => r.status === 200 && r.json.version === newVersion, (r) => r.status === 200, putReply.atMs);
  detail(`zurich-01   GET /api/entries/${githubId} -> 200  version ${newVersion}, replication lag ${ms(updated.elapsedMs)}`, 1);
  showEntry(updated.reply.json, 2);
  check(sameFields(updated.reply.json.fields, rotated.fields), 'zurich-01 does not show the rotated password');

  const delReply = await call(P.url, 'DELETE', `/api/entries/${noteId}`, { token: owner });
  check(delReply.status === 204, `DELETE /api/entries/${noteId} on calgary-01: ${describeReply(delReply)}`);
  detail(`"${ENTRIES[2]!.title}": delete`);
  detail(`calgary-01  DELETE /api/entries/${noteId} -> 204`, 1);
  const gone = await pollUntil('tombstone on zurich-01', () => call(B.url, 'GET', `/api/entries/${noteId}`, { token: owner }),
    (r) => r.status === 404, (r) => r.status === 200, delReply.atMs);
  detail(`zurich-01   GET /api/entries/${noteId} -> 404 (${gone.reply.error?.coded ? `${gone.reply.error.code}: ${gone.reply.error.message}` : 'no code: '}), replication lag ${ms(gone.elapsedMs)}`, 1);

  // 6. A write on the backup is refused.
  step(6, TOTAL_STEPS, 'Try a write on zurich-01 (backup): refused, with directions to the primary');
  const refused = await call(B.url, 'POST', '/api/entries', { token: owner, body: { type: 'note', title: 'should not land', fields: [] } });
  const retryAfter = refused.error?.retryAfterSeconds ?? null;
  const primaryLocation = refused.error?.primaryLocation ?? null;
  const errCode: string | undefined = refused.error?.coded ? refused.error.code : undefined;
  detail(`zurich-01   POST /api/entries -> ${refused.status}`);
  detail(`Retry-After: ${retryAfter ?? '(missing)'}`, 1);
  detail(`X-Primary-Location: ${primaryLocation ?? '(missing)'}`, 1);
  detail(`error: ${errCode ?? '(none)'}: ${refused.error?.coded ? refused.error.message : ''}`, 1);
  check(refused.status === 503, `expected 503 from the backup, got ${describeReply(refused)}`);
  check(retryAfter && Number(retryAfter) > 0, 'the 503 has no usable Retry-After header');
  check(primaryLocation === P.url, `X-Primary-Location should be ${P.url}, got ${primaryLocation ?? 'nothing'}`);
  check(errCode === Errors.READ_ONLY_BACKUP.code, `expected error code ${Errors.READ_ONLY_BACKUP.code}, got ${errCode ?? 'none'}`);

  // 7. Status of both POPs.
  step(7, TOTAL_STEPS, 'GET /api/status on both POPs');
  let primaryStatus = await call(P.url, 'GET', '/api/status', { token: admin });
  for (let i = 0; primaryStatus.status === 200 && primaryStatus.json.replication.backlog > 0 && i < 100; i++) {
    await sleep(20); // the ack of the last push may trail the backup's apply by a moment
    primaryStatus = await call(P.url, 'GET', '/api/status', { token: admin });
  }
  const backupStatus = await call(B.url, 'GET', '/api/status', { token: B.adminToken() });
  check(primaryStatus.status === 200 && backupStatus.status === 200, `status: calgary-01 ${describeReply(primaryStatus)}, zurich-01 ${describeReply(backupStatus)}`);
  detail(statusLines('calgary-01', primaryStatus.json));
  detail(statusLines('zurich-01', backupStatus.json));
  check(primaryStatus.json.role === 'primary' && backupStatus.json.role === 'backup', 'unexpected roles in /api/status');
  check(primaryStatus.json.replication.backlog === 0, `calgary-01 still has ${primaryStatus.json.replication.backlog} unacknowledged revisions`);

  // 8. Stop.
  step(8, TOTAL_STEPS, 'Stop both POPs with SIGTERM');
  for (const proc of [P, B]) {
    const { exit, killed, tookMs } = await proc.stop();
    detail(`${proc.spec.name} (pid ${proc.pid}): SIGTERM -> ${killed ? 'no exit within 5 s, SIGKILL -> ' : ''}${describeExit(exit)} in ${ms(tookMs)}`);
    check(!killed && exit.code === 0, `${proc.spec.name} did not shut down cleanly (${describeExit(exit)})`);
    check(proc.stdout === `${proc === P ? PRIMARY_LINE : BACKUP_LINE}\n`, `${proc.spec.name} printed more than its one startup line on stdout`);
  }

  const avg = lags.reduce((a, b) => a + b, 0) / lags.length;
  return `DEMO OK in ${ms(performance.now() - t0)}: ${ENTRIES.length} entries replicated calgary-01 -> zurich-01 ` +
    `(lag min ${ms(Math.min(...lags))}, avg ${ms(avg)}, max ${ms(Math.max(...lags))}); update and delete followed; ` +
    `backup refused a write with 503 ${errCode}; both POPs stopped cleanly.`;
}

/** Stops every POP still running (SIGTERM, SIGKILL after 5 s), reporting each. */
async function stopAll(): Promise<void> {
  await Promise.all(livePops().map(async (p) => {
    const { exit, killed } = await p.stop();
    line(`    stopped ${p.spec.name} (pid ${p.pid}): ${killed ? 'SIGKILL after 5 s, ' : ''}${describeExit(exit)}`);
  }));
}

let finishing = false;

/** Ends the demo once: stops the POPs (SIGTERM, then SIGKILL after 5 s), then exits with `status`. */
async function finish(status: number): Promise<never> {
  finishing = true;
  await stopAll();
  process.exit(status);
}

/**
 * Prints what went wrong, including the last log lines of a POP that died, and ends the demo
 * with status 1. Errors that arrive while the demo is already ending (an interrupted request,
 * a POP that exited on the same Ctrl-C) are consequences, not news, and are not reported.
 */
async function fail(err: unknown): Promise<never> {
  // On Ctrl-C the POPs (same process group) may exit before our own SIGINT handler runs, so the
  // first symptom is a refused connection: give a pending signal a moment to be handled first.
  await sleep(SIGNAL_SETTLE_MS);
  if (finishing) return new Promise<never>(() => {});
  line();
  line(`DEMO FAILED: ${err instanceof Error ? err.message : String(err)}`);
  for (const p of startedPops()) {
    if (p.exit) {
      line(`    ${p.spec.name} is not running (${describeExit(p.exit)}); its last log lines:`);
      for (const l of p.stderrLines(6)) line(`      ${l}`);
    }
  }
  line(`    logs and data kept in ${rel(DEMO_DIR)}/ for inspection; stopping the POPs`);
  return finish(1);
}

/** SIGINT/SIGTERM: stop the POPs and exit 128+n; a second signal kills them at once. */
function interrupted(signal: 'SIGINT' | 'SIGTERM', status: number): void {
  if (finishing) {
    for (const p of livePops()) p.killNow();
    process.exit(status);
  }
  line();
  line(`Interrupted (${signal}): stopping the POPs`);
  void finish(status);
}

process.on('SIGINT', () => interrupted('SIGINT', 130));
process.on('SIGTERM', () => interrupted('SIGTERM', 143));
process.on('uncaughtException', (e) => void fail(e));
process.on('unhandledRejection', (e) => void fail(e));
process.on('exit', () => {
  for (const p of livePops()) p.killNow();
});

try {
  const summary = await runDemo();
  line();
  line(summary);
  process.exit(0);
} catch (e) {
  await fail(e);
}
