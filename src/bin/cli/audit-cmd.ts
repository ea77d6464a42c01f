/**
 * `clavitor-cli audit [verify]` (issue 6 item 4), owner token. `audit` prints the records of the
 * POP it talks to (each POP keeps the trail of the requests it served); `audit verify` pages
 * through all of them and recomputes the hash chain, naming the first broken record (exit 1).
 *
 * A chain alone cannot show records cut off its end, nor a trail rewritten and re-hashed by
 * someone with the host. So `audit verify` also checks the trail against anchors kept outside
 * that host (issue 13 §3; docs/security.md "Audit trail"), and fails (exit 1) when an anchored
 * record is gone (CV-6020) or hashes differently (CV-6021):
 *
 * - the anchor it remembered at its last successful verify of this server and vault
 *   (audit-state.ts), then remembers the newest record of this run;
 * - the anchors the POP's replication peer keeps (`GET /api/audit/anchors` on the peer): with
 *   `--peer URL`, or the peer the POP names itself (`--no-peer` skips it). A peer that cannot be
 *   asked is a warning when named by the POP, and exit 4 (CV-6022) when given with `--peer`.
 *   A peer that is the POP itself (same pop_id, or the same address as `--server`) is refused
 *   before the trail is read (CV-6033, exit 2): a POP keeps only its peer's anchors, so it would
 *   check nothing. A peer that holds no anchor of this POP for a vault whose trail has records,
 *   after PEER_ANCHOR_WAIT_MS, is said loudly and exits 4 (CV-6034): the trail was not checked
 *   against it (found by a newcomer's try-out: `--peer <same POP>` passed with "0 anchors").
 */
import type { Command } from 'commander';
import { createAuditVerifier, type AuditBreak } from '../../vault/audit.js';
import { fromAuditView, type AuditRecordView } from '../../vault/audit-service.js';
import { checkAnchors, type AnchorProblem } from '../../vault/audit-anchor.js';
import { parseToken } from '../../vault/tokens.js';
import { cvError, Errors } from '../../lib/errors.js';
import type { Client } from './http.js';
import { contextOf, type Ctx } from './context.js';
import { EXIT, describe as describeError } from './exit-codes.js';
import { loadAuditState, rememberAnchor, rememberedAnchor } from './audit-state.js';

/** Records per request while paging, the server's maximum. */
export const PAGE_LIMIT = 1000;

/**
 * Calls `each` for every record of the trail after `afterId`, in id order, `pageLimit` records per
 * request; stops early when `each` returns false.
 */
export async function pageAudit(client: Client, afterId: number, each: (r: AuditRecordView) => boolean | void, pageLimit = PAGE_LIMIT): Promise<void> {
  let after = afterId;
  for (;;) {
    const page = await client.call<{ records: AuditRecordView[]; next_after: number | null }>('GET', `/api/audit?after=${after}&limit=${pageLimit}`);
    for (const r of page.records) if (each(r) === false) return;
    if (page.next_after === null || page.records.length < pageLimit) return;
    after = page.next_after;
  }
}

/** Result of verifying a trail: records checked and the first break, if any. */
export interface VerifyResult {
  ok: boolean;
  records: number;
  first_broken: AuditBreak | null;
}

/** Result of verifying a trail and the hashes of the records asked for by `want`. */
export interface VerifyDetail extends VerifyResult {
  /** The newest record (id, hash), or null for an empty trail or a broken chain. */
  newest: { seq: number; hash: string } | null;
  /** Hash of every record id in `want` that the trail holds. */
  hashes: Map<number, string>;
}

/**
 * Verifies the whole chain served by `client`, fetching `pageLimit` records per request, and
 * collects the hashes of the record ids in `want` (anchored positions). Reads on past a break to
 * collect them.
 */
export async function verifyAuditDetail(client: Client, want: ReadonlySet<number>, pageLimit = PAGE_LIMIT): Promise<VerifyDetail> {
  const v = createAuditVerifier();
  let broken: AuditBreak | undefined;
  let n = 0;
  let last: AuditRecordView | undefined;
  const hashes = new Map<number, string>();
  const maxWanted = Math.max(0, ...want);
  await pageAudit(client, 0, (r) => {
    if (want.has(r.id)) hashes.set(r.id, r.hash);
    if (!broken) {
      n++;
      broken = v.push(fromAuditView(r));
    }
    last = r;
    return broken === undefined || r.id < maxWanted;
  }, pageLimit);
  return { ok: !broken, records: n, first_broken: broken ?? null, newest: !broken && last ? { seq: last.id, hash: last.hash } : null, hashes };
}

/** Verifies the whole chain served by `client`, fetching `pageLimit` records per request. */
export async function verifyAudit(client: Client, pageLimit = PAGE_LIMIT): Promise<VerifyResult> {
  const d = await verifyAuditDetail(client, new Set(), pageLimit);
  return { ok: d.ok, records: d.records, first_broken: d.first_broken };
}

/** `GET /api/audit/anchors`: this POP's id, where its anchors are kept, and the anchors it keeps for its peer. */
interface AnchorsView {
  pop_id: string | null;
  peer: { pop_id: string; url: string } | null;
  anchors: { pop_id: string; seq: number; hash: string; received_at: string }[];
}

const PROBLEM_CODE = { missing: Errors.AUDIT_ANCHOR_MISSING.code, changed: Errors.AUDIT_ANCHOR_CHANGED.code };

/** One line naming a trail's disagreement with an anchor. */
function problemLine(p: AnchorProblem): string {
  return p.kind === 'missing'
    ? `audit trail contradicts the ${p.source} anchor: record ${p.seq} is gone (${PROBLEM_CODE.missing}: records were deleted or the newest ones cut off)`
    : `audit trail contradicts the ${p.source} anchor: record ${p.seq} has another hash (${PROBLEM_CODE.changed}: the trail was rewritten and re-hashed)`;
}

/** What the peer check gave: anchors to check, or why there are none. */
type PeerAnchors = { url: string; popId: string | null; anchors: { seq: number; hash: string; source: string }[] } | { url: string; error: string } | null;

/**
 * How long, in milliseconds, `audit verify` asks a peer that holds no anchor of this POP again
 * before it says the trail was not checked (CV-6034): anchors leave a POP about 1 s after a
 * record (ANCHOR_DELAY_MS in src/replication/anchors.ts), so a vault created a moment ago has none yet.
 */
export const PEER_ANCHOR_WAIT_MS = 3000;
/** Pause between two such asks, in milliseconds. */
const PEER_ANCHOR_POLL_MS = 250;

/** `url`'s origin, or the text itself when it is not a URL. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

async function peerAnchors(ctx: Ctx, self: AnchorsView | null, explicit: string | undefined, disabled: boolean): Promise<PeerAnchors> {
  const url = disabled ? undefined : (explicit ?? self?.peer?.url);
  if (!url) return null;
  const server = ctx.client().server;
  if (originOf(url) === originOf(server)) throw cvError('AUDIT_PEER_IS_SELF', `--peer ${url} is the POP being verified (--server ${server}); give the other POP of the pair, or leave --peer out`);
  let view: AnchorsView;
  try {
    view = await ctx.clientAt(url).call<AnchorsView>('GET', '/api/audit/anchors');
  } catch (e) {
    return { url, error: describeError(e).join('; ').replace(/^clavitor-cli: /, '') };
  }
  if (view.pop_id !== null && view.pop_id === self?.pop_id) {
    throw cvError('AUDIT_PEER_IS_SELF', `--peer ${url} is ${view.pop_id}, the POP being verified (--server ${server}); give the other POP of the pair, or leave --peer out`);
  }
  const mine = view.anchors.filter((a) => self?.pop_id == null || a.pop_id === self.pop_id);
  return { url, popId: view.pop_id, anchors: mine.map((a) => ({ seq: a.seq, hash: a.hash, source: `peer ${a.pop_id}` })) };
}

/**
 * When the peer holds no anchor of this POP while the vault's trail here has records, asks it
 * again every PEER_ANCHOR_POLL_MS for up to PEER_ANCHOR_WAIT_MS (monotonic clock) before the
 * trail is read. Returns the anchors then held, and whether the trail was found empty.
 */
async function awaitPeerAnchors(ctx: Ctx, self: AnchorsView | null, peer: PeerAnchors): Promise<{ peer: PeerAnchors; trailEmpty: boolean }> {
  if (peer === null || !('anchors' in peer) || peer.anchors.length > 0) return { peer, trailEmpty: false };
  const first = await ctx.client().call<{ records: AuditRecordView[] }>('GET', '/api/audit?after=0&limit=1');
  if (first.records.length === 0) return { peer, trailEmpty: true };
  const deadline = performance.now() + PEER_ANCHOR_WAIT_MS;
  let now: PeerAnchors = peer;
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, PEER_ANCHOR_POLL_MS));
    now = await peerAnchors(ctx, self, now!.url, false);
    if (now === null || !('anchors' in now) || now.anchors.length > 0) break;
  }
  return { peer: now, trailEmpty: false };
}

const WHY = {
  hash: 'its contents no longer match its hash (the record was edited)',
  link: 'it does not link to the record before it (a record before it was deleted, inserted or moved)',
};

async function auditCmd(o: { after: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const all: AuditRecordView[] = [];
  await pageAudit(ctx.client(), Number(o.after) || 0, (r) => void all.push(r));
  if (ctx.json) return ctx.emit(all);
  for (const r of all) ctx.line([r.id, r.at, r.actor, r.action, r.entry_id ?? '-', r.outcome, r.code ?? '-', r.ip ?? '-'].join('\t'));
}

async function verifyCmd(o: { peer?: string | boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const client = ctx.client();
  const vaultId = parseToken(client.token)?.vaultId ?? 'unknown';
  const state = loadAuditState();
  const remembered = rememberedAnchor(state, client.server, vaultId);
  // Anchors first, the trail after: every anchor then names a record the trail held when it was read.
  let self: AnchorsView | null = null;
  try {
    self = await client.call<AnchorsView>('GET', '/api/audit/anchors');
  } catch {
    self = null; // a server without anchors (older version): the chain and the remembered anchor still count
  }
  const asked = await peerAnchors(ctx, self, typeof o.peer === 'string' ? o.peer : undefined, o.peer === false);
  const { peer, trailEmpty } = await awaitPeerAnchors(ctx, self, asked);
  const peerEmpty = peer !== null && 'anchors' in peer && peer.anchors.length === 0 && !trailEmpty;
  const anchors = [...(remembered ? [{ seq: remembered.seq, hash: remembered.hash, source: `remembered (verified ${remembered.at})` }] : []), ...(peer && 'anchors' in peer ? peer.anchors : [])];
  const res = await verifyAuditDetail(client, new Set(anchors.map((a) => a.seq)));
  const problems = checkAnchors((seq) => res.hashes.get(seq), anchors);
  const ok = res.ok && problems.length === 0;
  const peerUnchecked = peer !== null && 'error' in peer;
  if (ok && res.newest) rememberAnchor(client.server, vaultId, { ...res.newest, at: new Date().toISOString() });
  if (ctx.json) {
    ctx.emit({
      ok, records: res.records, first_broken: res.first_broken,
      anchor_problems: problems.map((p) => ({ code: PROBLEM_CODE[p.kind], ...p })),
      remembered: remembered ?? null,
      peer: peer === null ? null : 'error' in peer ? { url: peer.url, checked: false, error: peer.error }
        : { url: peer.url, pop_id: peer.popId, checked: !peerEmpty, anchors: peer.anchors.length, ...(peerEmpty ? { error: Errors.AUDIT_PEER_NO_ANCHORS.code } : {}) },
    });
  } else {
    if (!res.ok) ctx.line(`audit chain broken at record ${res.first_broken!.id}: ${WHY[res.first_broken!.reason]}`);
    for (const p of problems) ctx.line(problemLine(p));
    if (ok) ctx.line(`audit chain intact: ${res.records} records`);
    if (peer && 'anchors' in peer && !peerEmpty) ctx.note(`checked against ${peer.anchors.length} anchors kept by ${peer.popId ?? 'the peer'} (${peer.url})`);
    if (remembered) ctx.note(`checked against record ${remembered.seq} remembered from ${remembered.at}`);
  }
  if (peerUnchecked) ctx.note(`clavitor-cli: ${Errors.AUDIT_PEER_UNCHECKED.code}: ${Errors.AUDIT_PEER_UNCHECKED.message}: ${peer.url}: ${peer.error}`);
  if (peerEmpty) {
    ctx.note(`clavitor-cli: ${Errors.AUDIT_PEER_NO_ANCHORS.code}: NOT checked against the peer: ${peer.popId ?? 'the peer'} (${peer.url}) holds 0 anchors of ${self?.pop_id ?? 'this POP'} for this vault, whose trail has records`);
    ctx.note('clavitor-cli: anchors travel on the replication link about 1 s after each record: check the pair\'s replication (clavitor-commercial status) and run audit verify again');
  }
  if (!ok) process.exitCode = EXIT.FAILED_CHECK;
  else if (peerEmpty || (peerUnchecked && typeof o.peer === 'string')) process.exitCode = EXIT.UNAVAILABLE;
}

/** Adds `audit` and `audit verify` to `program`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('print the audit trail of this POP (owner token)')
    .option('--after <id>', 'start after this record id', '0')
    .action(auditCmd);
  audit.command('verify').description('recompute the hash chain and check it against the anchors kept outside this POP; exit 1 naming what does not match')
    .option('--peer <url>', 'check against the audit anchors kept by this POP (default: the peer the server names)')
    .option('--no-peer', 'do not ask the peer for its anchors')
    .action(verifyCmd);
}
