/**
 * Fuzzing of the replication receiver (issue 4 item 6; DESIGN.md §4.4 items 4–6), with
 * fast-check, seeded and deterministic.
 *
 * A primary's real write path (vault, entries and agents services over a revision writer with
 * NO_HOOKS) builds three vaults; a backup's real node.db and vault files in a temp dir then hold
 * all of vault A, the first revisions of vault B and nothing of vault C, applied by a valid push.
 * Generated pushes start from the primary's revisions (continuations, replays, new vaults, random
 * subsequences) and are then damaged: wrong, duplicate, zero, negative and huge seqs, gaps,
 * reordered, dropped and duplicated items, wrong kinds, subjects and vault ids, bodies that are not
 * JSON or do not match their kind's schema, bodies whose token or agent ids collide with ones the
 * vault holds, odd epochs, senders and push counters.
 *
 * Properties:
 * - `PushBody.safeParse` never throws, on arbitrary JSON and on every generated push.
 * - `applyPush` on a push that parses either returns an ack or throws a ClavitorError with a
 *   registered code; when it throws, nothing changed: the vault list, the directory of vault
 *   files, a digest of every vault file's revisions (`vaultDigest`) and derived tables, node.db's
 *   meta (replay counters) and the epoch are as before.
 * After a push that was applied the backup is restored from a snapshot, so every case starts from
 * the same state.
 *
 * Runs: CLAVITOR_FUZZ_RUNS (default 200; `npm run fuzz` uses 10,000). Seeds fixed below and printed
 * in the test names; a failure prints fast-check's seed and path to replay it. Ids, tokens and
 * ciphertexts are random per run; cases pick revisions by position, so a seed replays the same case.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ClavitorError, Errors } from '../../src/lib/errors.js';
import { isVaultId, type VaultId } from '../../src/lib/ids.js';
import { openNodeStore, type NodeStore } from '../../src/store/node-store.js';
import { createVaultFiles, type VaultFiles } from '../../src/store/vault-files.js';
import { createRevisionWriter, NO_HOOKS } from '../../src/vault/writer.js';
import { createVaultService } from '../../src/vault/vault-service.js';
import { createEntriesService } from '../../src/vault/entries-service.js';
import { createAgentsService } from '../../src/vault/agents-service.js';
import { REVISION_KINDS, toWire } from '../../src/vault/revision.js';
import { applyPush } from '../../src/replication/receiver.js';
import { vaultDigest } from '../../src/replication/digest.js';
import { PushBody, type LoggedRevisionWire as RevisionWire } from '../../src/replication/wire.js';
import { fuzzRuns } from '../kit/fuzz.js';

const SEED = 0x5eed0402;
const SCHEMA_SEED = 0x5eed0403;
const RUNS = fuzzRuns();

const REGISTERED = new Set(Object.values(Errors).map((d) => d.code));
const SENDER = 'calgary-01';
const EPOCH = 1;

const root = mkdtempSync(join(tmpdir(), 'clavitor-push-fuzz-'));
after(() => rmSync(root, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// The primary: three vaults written through the real write path.

async function buildPrimary(): Promise<RevisionWire[][]> {
  const dir = join(root, 'primary');
  mkdirSync(dir);
  const node = openNodeStore(dir);
  const files = createVaultFiles(dir);
  let clock = Date.parse('2026-11-29T18:00:00.000Z');
  const now = (): Date => new Date((clock += 1000));
  const writer = createRevisionWriter({ hooks: NO_HOOKS, identity: () => ({ popId: SENDER, epoch: EPOCH }), now });
  const vaults = createVaultService({ node, files, writer, now });
  const entries = createEntriesService({ node, files, writer, now });
  const agents = createAgentsService({ files, writer });
  const entry = (title: string) => ({
    type: 'credential' as const, parent: null, title,
    fields: [{ label: 'username', value: 'alice', kind: 'text', tier: 'agent' as const }, { label: 'password', value: 's3cret', kind: 'password', tier: 'owner' as const }],
  });

  const out: RevisionWire[][] = [];
  for (const size of [3, 2, 1]) {
    const { vaultId, ownerToken } = await vaults.createVault();
    const owner = vaults.authenticate(ownerToken);
    const created = await Promise.all(Array.from({ length: size }, (_, i) => entries.create(owner, entry(`entry ${i}`), null)));
    const ids = created.map((v) => v.id);
    await entries.update(owner, ids[0]!, created[0]!.version, entry('renamed'), null);
    const agent = await agents.create(owner, 'ci-bot', ids.slice(0, 1), null);
    if (size > 1) {
      await entries.remove(owner, ids[1]!, undefined, null);
      await agents.revoke(owner, agent.agent_id, null);
    }
    // With its log position on the primary (issue 12 item 3).
    out.push([...files.find(vaultId)!.iterateRevisions()].map((r) => ({ ...toWire(r), lsn: node.lsnOf(r.vaultId, r.seq)! })));
  }
  files.closeAll();
  node.close();
  return out;
}

const [PA, PB, PC] = (await buildPrimary()) as [RevisionWire[], RevisionWire[], RevisionWire[]];
const ALL = [...PA, ...PB, ...PC];
/** Revisions of B the backup already holds. */
const B_HELD = 3;
const VAULT_IDS = [PA[0]!.vault_id, PB[0]!.vault_id, PC[0]!.vault_id];
/** The primary's epoch history, and the backup's last log position after the base push. */
const HISTORY = [{ epoch: EPOCH, start_lsn: 1, pop_id: SENDER }];
const LAST = PB[B_HELD - 1]!.lsn;
/** JSON object of a body, or `{}` when it is not one (bodies are damaged by earlier edits). */
function bodyObject(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
const tokenIdsOf = (ws: readonly RevisionWire[]): string[] =>
  ws.flatMap((w) => [bodyObject(w.body).owner_token_id, bodyObject(w.body).token_id]).filter((x): x is string => typeof x === 'string');
/** Token ids, and entry and agent ids, the primary wrote: fodder for collisions. */
const TOKEN_IDS = tokenIdsOf(ALL);
const TOKEN_IDS_BY_VAULT = new Map([PA, PB, PC].map((ws) => [ws[0]!.vault_id, tokenIdsOf(ws)]));
const SUBJECTS = [...new Set(ALL.map((w) => w.subject).filter((s): s is string => s !== null))];
const AGENT_IDS_BY_VAULT = new Map([PA, PB, PC].map((ws) => [ws[0]!.vault_id, ws.filter((w) => w.kind === 'agent.create').map((w) => w.subject!)]));

// ---------------------------------------------------------------------------------------------
// The backup: a base state built by a valid push, a snapshot of it, and a working copy.

const BASE = join(root, 'backup-base');
const WORK = join(root, 'backup');

interface Backup {
  node: NodeStore;
  files: VaultFiles;
  epoch: number;
}

function openBackup(dir: string): Backup {
  return { node: openNodeStore(dir), files: createVaultFiles(dir), epoch: EPOCH };
}
function closeBackup(b: Backup): void {
  b.files.closeAll();
  b.node.close();
}
const depsOf = (b: Backup) => ({ node: b.node, files: b.files, getEpoch: () => b.epoch, adoptEpoch: (e: number) => void (b.epoch = e) });

{
  mkdirSync(BASE);
  const b = openBackup(BASE);
  const ack = applyPush(depsOf(b), { epoch: EPOCH, sender: SENDER, push_seq: 1, prev_lsn: 0, history: HISTORY, items: [...PA, ...PB.slice(0, B_HELD)] });
  assert.equal(ack.applied, PA.length + B_HELD);
  closeBackup(b);
}
let backup: Backup;
function restore(): void {
  if (backup !== undefined) closeBackup(backup);
  rmSync(WORK, { recursive: true, force: true });
  cpSync(BASE, WORK, { recursive: true });
  backup = openBackup(WORK);
}
restore();

/** Everything a push may change, as one comparable string. */
function snapshot(b: Backup): string {
  // Every vault id with any row in clavitor.db (one database per POP, issue 12).
  const db = b.node.db;
  const ids = (db.prepare('SELECT vault_id FROM revisions UNION SELECT vault_id FROM vaults UNION SELECT vault_id FROM tokens UNION SELECT vault_id FROM entries ORDER BY 1').all() as { vault_id: string }[]).map((r) => r.vault_id);
  const vaults = ids.map((id) => {
    const store = isVaultId(id) ? b.files.find(id as VaultId) : undefined;
    if (!store) return [id, null];
    return [id, vaultDigest(store), db.prepare('SELECT * FROM tokens WHERE vault_id = ? ORDER BY token_id').all(id), db.prepare('SELECT * FROM entries WHERE vault_id = ? ORDER BY entry_id').all(id)];
  });
  return JSON.stringify({
    epoch: b.epoch,
    vaultList: b.node.listVaults(),
    meta: b.node.db.prepare('SELECT key, value FROM meta ORDER BY key').all(),
    vaults,
  });
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const MAX = Number.MAX_SAFE_INTEGER;
const oddInt = fc.oneof(fc.constantFrom(0, 1, 2, -1, MAX, MAX - 1, 2 ** 31, 2 ** 32, 1e300, 0.5, -0), fc.integer(), fc.nat(40));
const b64 = (n: number) => fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'), minLength: n, maxLength: n });
const vaultIdArb = fc.oneof(fc.constantFrom(...VAULT_IDS), b64(22).map((s) => `v_${s}`), fc.constantFrom('v_', 'v_../../../../etc/passw', `v_${'A'.repeat(21)}`, `e_${'A'.repeat(22)}`, ''));
const subjectArb = fc.oneof(
  fc.constantFrom(...SUBJECTS),
  fc.constant(null),
  b64(22).map((s) => `e_${s}`),
  b64(22).map((s) => `a_${s}`),
  fc.constantFrom('', 'x'.repeat(64), 'x'.repeat(65), '\u0000', '🔑'),
  fc.string({ maxLength: 70 }),
);
const stringArb = fc.oneof(fc.string({ unit: 'binary', maxLength: 70 }), fc.constantFrom('', SENDER, 'zurich-01', '2026-11-29T18:00:00.000Z', 'x'.repeat(64), 'not-a-date'));

/** A JSON body for `kind`, shaped like the primary's but with one field odd. */
function bodyMutations(w: RevisionWire): fc.Arbitrary<string> {
  const parsed = bodyObject(w.body);
  const keys = Object.keys(parsed);
  const sameVaultTokens = TOKEN_IDS_BY_VAULT.get(w.vault_id) ?? [];
  const oddValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...TOKEN_IDS), fc.constantFrom('c1.', 'c1.AAAA', 'c1.!!', 'x'.repeat(129)));
  return fc.oneof(
    // Not JSON at all, or JSON of the wrong shape.
    fc.constantFrom('', '{', 'null', '[]', '"x"', '{}', '{"a":1}', '\u0000', '{"__proto__":{"x":1}}', w.body.slice(0, -1), `${w.body} `),
    fc.string({ unit: 'binary', maxLength: 50 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
    // The body of another revision (often another kind).
    fc.constantFrom(...ALL).map((o) => o.body),
    // One field replaced, dropped or added.
    keys.length === 0
      ? fc.constant('{"extra":1}')
      : fc.tuple(fc.constantFrom(...keys), oddValue, fc.constantFrom('set', 'drop', 'add')).map(([k, v, op]) => {
          const b: Record<string, unknown> = { ...parsed };
          if (op === 'set') b[k] = v;
          else if (op === 'drop') delete b[k];
          else b[`${k}_x`] = v;
          return JSON.stringify(b);
        }),
    // Token ids that collide with ones the vault holds or the push creates (tokens primary key).
    {
      weight: 3,
      arbitrary: fc.constantFrom(...(sameVaultTokens.length > 0 ? sameVaultTokens : TOKEN_IDS)).map((id) =>
        JSON.stringify({ ...parsed, ...(w.kind === 'vault.create' ? { owner_token_id: id } : { token_id: id }) })),
    },
  );
}

type ItemEdit = (items: RevisionWire[]) => fc.Arbitrary<RevisionWire[]>;

/** One edit of a push's items: picks an item and damages it, or changes the list itself. */
const itemEdit: ItemEdit = (items) => {
  if (items.length === 0) return fc.constantFrom(...ALL).map((w) => [w]);
  const pick = fc.nat(items.length - 1);
  const replaceAt = (i: number, w: RevisionWire) => items.map((x, j) => (j === i ? w : x));
  return fc.oneof(
    fc.tuple(pick, oddInt).map(([i, seq]) => replaceAt(i, { ...items[i]!, seq })),
    fc.tuple(pick, fc.integer({ min: -2, max: 2 })).map(([i, d]) => replaceAt(i, { ...items[i]!, seq: items[i]!.seq + d })),
    fc.tuple(pick, fc.constantFrom(...REVISION_KINDS)).map(([i, kind]) => replaceAt(i, { ...items[i]!, kind })),
    fc.tuple(pick, subjectArb).map(([i, subject]) => replaceAt(i, { ...items[i]!, subject })),
    fc.tuple(pick, vaultIdArb).map(([i, vault_id]) => replaceAt(i, { ...items[i]!, vault_id })),
    fc.tuple(pick, oddInt).map(([i, epoch]) => replaceAt(i, { ...items[i]!, epoch })),
    fc.tuple(pick, stringArb).map(([i, origin_pop]) => replaceAt(i, { ...items[i]!, origin_pop })),
    fc.tuple(pick, stringArb).map(([i, created_at]) => replaceAt(i, { ...items[i]!, created_at })),
    { weight: 4, arbitrary: pick.chain((i) => bodyMutations(items[i]!).map((body) => replaceAt(i, { ...items[i]!, body }))) },
    // An agent id the vault holds, on an agent.create (the agent id is unique in a vault).
    fc.tuple(pick, fc.nat()).map(([i, k]) => {
      const agents = AGENT_IDS_BY_VAULT.get(items[i]!.vault_id) ?? [];
      return agents.length === 0 ? items : replaceAt(i, { ...items[i]!, kind: 'agent.create', subject: agents[k % agents.length]! });
    }),
    pick.map((i) => items.filter((_, j) => j !== i)),
    pick.map((i) => [...items.slice(0, i + 1), ...items.slice(i)]),
    fc.tuple(pick, pick).map(([i, j]) => {
      const out = [...items];
      [out[i], out[j]] = [out[j]!, out[i]!];
      return out;
    }),
    fc.tuple(fc.nat(items.length), fc.constantFrom(...ALL)).map(([i, w]) => [...items.slice(0, i), w, ...items.slice(i)]),
    fc.tuple(pick, fc.constantFrom(...ALL)).map(([i, w]) => replaceAt(i, w)),
  );
};

/** Starting items: what a real sender might send, valid for the backup's state or not. */
const baseItems: fc.Arbitrary<RevisionWire[]> = fc.oneof(
  fc.integer({ min: 1, max: PB.length - B_HELD }).map((k) => PB.slice(B_HELD, B_HELD + k)),
  fc.integer({ min: 1, max: PC.length }).map((k) => PC.slice(0, k)),
  fc.tuple(fc.nat(PA.length - 1), fc.nat(PA.length - 1)).map(([i, j]) => PA.slice(Math.min(i, j), Math.max(i, j) + 1)),
  fc.tuple(fc.integer({ min: 0, max: PB.length }), fc.integer({ min: 0, max: PC.length })).map(([b, c]) => [...PB.slice(0, b), ...PC.slice(0, c)]),
  fc.subarray(ALL, { minLength: 1 }),
  fc.shuffledSubarray(ALL, { minLength: 1, maxLength: 6 }),
);

/** Items after 0–3 edits. */
const itemsArb: fc.Arbitrary<RevisionWire[]> = fc
  .tuple(baseItems, fc.integer({ min: 0, max: 3 }))
  .chain(([items, edits]) => {
    let arb: fc.Arbitrary<RevisionWire[]> = fc.constant(items);
    for (let k = 0; k < edits; k++) arb = arb.chain(itemEdit);
    return arb;
  });

const pushArb = fc.record({
  epoch: fc.oneof({ weight: 8, arbitrary: fc.constant(EPOCH) }, { weight: 1, arbitrary: fc.constantFrom(0, 2, 3, MAX) }, { weight: 1, arbitrary: oddInt }),
  sender: fc.oneof({ weight: 8, arbitrary: fc.constant(SENDER) }, { weight: 1, arbitrary: fc.constantFrom('zurich-01', 'other') }, { weight: 1, arbitrary: stringArb }),
  push_seq: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 2, max: 1000 }) }, { weight: 1, arbitrary: fc.constantFrom(1, MAX) }, { weight: 1, arbitrary: oddInt }),
  // prev_lsn (issue 12 item 3): mostly what a sender sends (the position before its first item).
  prev: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(LAST) }, { weight: 1, arbitrary: oddInt }),
  history: fc.oneof(
    { weight: 8, arbitrary: fc.constant(HISTORY) },
    { weight: 1, arbitrary: fc.constantFrom([], [...HISTORY, { epoch: 2, start_lsn: 5, pop_id: 'zurich-01' }], [{ epoch: 2, start_lsn: 1, pop_id: SENDER }]) },
  ),
  items: itemsArb,
}).map(({ prev, ...p }) => ({ ...p, prev_lsn: prev ?? (p.items[0]?.lsn ?? 1) - 1 }));

/** The wire push, sometimes with an extra or missing top-level field. */
const rawPushArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 20, arbitrary: pushArb },
  { weight: 1, arbitrary: fc.tuple(pushArb, fc.constantFrom('epoch', 'sender', 'push_seq', 'prev_lsn', 'history', 'items')).map(([p, k]) => ({ ...p, [k]: undefined })) },
  { weight: 1, arbitrary: fc.tuple(pushArb, fc.jsonValue({ maxDepth: 2 })).map(([p, v]) => ({ ...p, extra: v })) },
  { weight: 1, arbitrary: pushArb.map((p) => ({ ...p, items: [] })) },
);

// ---------------------------------------------------------------------------------------------
// The properties.

const tally = new Map<string, number>();
const count = (k: string): void => void tally.set(k, (tally.get(k) ?? 0) + 1);

/** Parses `raw` like the push route does and applies it; checks the property. */
function check(raw: unknown): void {
  const parsed = PushBody.safeParse(raw);
  if (!parsed.success) {
    count('schema-refused');
    return;
  }
  const push = parsed.data;
  const before = snapshot(backup);
  let ack;
  try {
    ack = applyPush(depsOf(backup), push);
  } catch (err) {
    if (!(err instanceof ClavitorError)) {
      const e = err as Error | undefined;
      assert.fail(`applyPush threw ${e?.constructor?.name ?? typeof err}, not ClavitorError: ${String(e?.message ?? err)}`);
    }
    assert.ok(REGISTERED.has(err.code), `unregistered code ${err.code}`);
    assert.equal(snapshot(backup), before, `push refused with ${err.code} (${err.message}) but the backup changed`);
    count(err.code);
    return;
  }
  assert.ok(Number.isSafeInteger(ack.applied) && ack.applied >= 0 && Number.isSafeInteger(ack.skipped) && ack.skipped >= 0);
  assert.ok(ack.applied + ack.skipped <= push.items.length);
  assert.equal(ack.epoch, Math.max(EPOCH, push.epoch));
  count(ack.applied > 0 ? 'applied' : 'ack-nothing-new');
  restore();
}

test('the base state is what the fuzzer expects', () => {
  assert.deepEqual(backup.node.listVaults(), [...VAULT_IDS.slice(0, 2)].sort());
  const ack = applyPush(depsOf(backup), { epoch: EPOCH, sender: SENDER, push_seq: 2, prev_lsn: LAST, history: HISTORY, items: [...PB.slice(B_HELD), ...PC] });
  assert.equal(ack.applied, PB.length - B_HELD + PC.length);
  restore();
});

test('regressions found by this fuzzer', async (t) => {
  // Before the id checks in receiver.ts, these bodies matched their schema, so planning passed;
  // the apply loop then hit SQLite's UNIQUE constraint on tokens: a SqliteError (not a
  // ClavitorError, so HTTP 500) after the epoch, the replay counter, the new vault's row in
  // node.db, its empty file and earlier vaults of the push had already been written.
  const owner = JSON.parse(PC[0]!.body) as { owner_token_id: string };
  const agentCreate = PC.find((w) => w.kind === 'agent.create')!;
  const reuse = (w: RevisionWire, fields: Record<string, unknown>): RevisionWire => ({ ...w, body: JSON.stringify({ ...(JSON.parse(w.body) as object), ...fields }) });
  // Log positions continue the backup's log (issue 12 item 3), so each case reaches the id checks.
  const pushOf = (items: RevisionWire[]) => ({ epoch: EPOCH + 1, sender: SENDER, push_seq: 2, prev_lsn: LAST, history: HISTORY, items: items.map((w, i) => ({ ...w, lsn: LAST + 1 + i })) });
  const cases: [string, RevisionWire[]][] = [
    ['agent.create reusing the vault owner token id, in a new vault', PC.map((w) => (w === agentCreate ? reuse(w, { token_id: owner.owner_token_id }) : w))],
    ['agent.create reusing a token id the vault holds, after a valid vault', [...PB.slice(B_HELD), reuse(PC[0]!, {}), ...PC.slice(1).map((w) => (w === agentCreate ? reuse(w, { token_id: owner.owner_token_id }) : w))]],
    ['agent.create for an agent id the vault holds', [reuse({ ...PA.find((w) => w.kind === 'agent.create')!, seq: PA.length + 1 }, { token_id: `t_${'C'.repeat(22)}` })]],
    ['two agent.create with one token id in one push', [...PB.slice(B_HELD), { ...agentCreate, vault_id: PB[0]!.vault_id, seq: PB.length + 1, subject: `a_${'B'.repeat(22)}` }, { ...agentCreate, vault_id: PB[0]!.vault_id, seq: PB.length + 2 }]],
  ];
  for (const [name, items] of cases) {
    await t.test(name, () => {
      restore();
      const before = tally.get('CV-5006') ?? 0;
      check(pushOf(items));
      assert.equal(tally.get('CV-5006'), before + 1, 'refused as PUSH_INVALID');
    });
  }
});

test(`fuzz: PushBody.safeParse never throws on arbitrary JSON (seed ${SCHEMA_SEED}, ${RUNS} runs)`, () => {
  const anyJson = fc.oneof(fc.jsonValue(), fc.anything(), rawPushArb, pushArb.map((p) => ({ ...p, items: p.items.map((w) => ({ ...w, seq: String(w.seq) })) })));
  fc.assert(fc.property(anyJson, (v) => void PushBody.safeParse(v)), { seed: SCHEMA_SEED, numRuns: RUNS });
});

test(`fuzz: applyPush acks or refuses with a registered code and changes nothing (seed ${SEED}, ${RUNS} runs)`, (t) => {
  tally.clear();
  const started = Date.now();
  fc.assert(fc.property(rawPushArb, (raw) => check(raw)), { seed: SEED, numRuns: RUNS });
  t.diagnostic(`seed ${SEED}: ${RUNS} pushes in ${((Date.now() - started) / 1000).toFixed(1)} s; outcomes ${JSON.stringify(Object.fromEntries([...tally].sort()))}`);
  // Checked, not only printed: one outcome per push, and each class reached (applied, acknowledged
  // with nothing new, refused by the schema, refused with several registered codes).
  assert.ok(tally.size > 0);
  assert.equal([...tally.values()].reduce((a, b) => a + b, 0), RUNS, 'one outcome per push');
  for (const k of ['applied', 'ack-nothing-new', 'schema-refused']) assert.ok((tally.get(k) ?? 0) > 0, `${k} reached`);
  assert.ok([...tally.keys()].filter((k) => k.startsWith('CV-50')).length >= 3, `several refusal codes: ${[...tally.keys()].join(', ')}`);
});
