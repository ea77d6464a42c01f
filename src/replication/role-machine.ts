/**
 * The role state machine of one commercial POP (DESIGN.md §4.3–4.5; issue 12 item 6), as one pure
 * function: `step(state, event) → { state, effects }`. No I/O and no clock: times arrive in events
 * (`atIso` for display, `sentAtMs`/`nowMs` on the monotonic clock, src/lib/clock.ts). Effects are
 * plain data performed in order by the shell in `pop.ts`; the effects that ask the peer something
 * (`checkPeer`, `fetchPositions`, `reconcile`, `applyDirective`) come back as events.
 *
 * States. `role` is the running role (the file's, or the role a control-plane directive set). The
 * reported role is derived: **fenced** = primary, no promotion pending, and `seen > epoch` (a higher
 * epoch exists elsewhere, CV-5002); **held** = primary with a `hold` (CV-5017 peer is primary,
 * CV-5018 backup ahead), reported as `fenced` with the reason in status `hold`, raising no epoch.
 * **pending** = configured primary whose last role was backup, promotion waiting for the peer check
 * (issue 11 item 2). **checking** = the start check runs (client writes 503 CV-5012).
 * `fence(e)` below = seen := max(seen, e); when that leaves the POP fenced: sender stopped,
 * synchronous waiters released, and only when e is newly seen: alert `fenced`, error log CV-5002.
 * `demote` = seen := epoch + 1 (the successor's epoch, reserved: chaos harness), unacknowledged
 * backlog → quarantine (§4.4.7). `promote(e)` = epoch := e (default seen + 1, §4.4.6), last role
 * primary, pending cleared, sender created unless held. `recheck` = (pending) the start check again,
 * else a positions check. "positions check" = `fetchPositions` when primary, not fenced, not
 * pending; it ends by starting the sender unless held, fenced or pending.
 *
 * | #  | state                       | event                                                   | next state                 | effects                                                        |
 * | -- | --------------------------- | ------------------------------------------------------- | -------------------------- | -------------------------------------------------------------- |
 * | 1  | (boot) file primary         | last role backup                                        | primary, pending           | last role stays backup (promotion waits for the peer check)    |
 * | 2  | (boot) file primary         | last role primary/none, epoch 0                         | primary                    | epoch := max(1, seen); last role primary                       |
 * | 3  | (boot) file primary         | last role primary/none, epoch ≥ 1                       | primary (fenced if seen>e) | last role primary                                              |
 * | 4  | (boot) file backup          | last role primary                                       | backup                     | demote; hold dropped; last role backup                         |
 * | 5  | (boot) file backup          | last role backup/none                                   | backup                     | hold dropped; last role backup                                 |
 * | 6  | (boot) any                  | role from a control-plane directive, file disagrees     | same                       | warn CV-5020 (no role change nobody asked for)                 |
 * | 7  | primary, fenced             | start                                                   | fenced                     | fence(seen): sender stopped, no new alert                      |
 * | 8  | primary                     | start                                                   | checking                   | checkPeer (≤ EPOCH_CHECK_TIMEOUT_MS)                           |
 * | 9  | backup                      | start                                                   | backup                     | sendHello                                                      |
 * | 10 | checking                    | peer unreachable / timeout                              | checking                   | warn; (pending) promote; create sender; positions check (start)|
 * | 11 | checking, pending           | peer answers primary (any epoch)                        | held peer_is_primary       | seen := its epoch; hold CV-5017 + alert; checking ends         |
 * | 12 | checking, pending           | peer answers backup/fenced                              | primary                    | seen := its epoch; clear CV-5017 hold; promote(seen + 1); as 10|
 * | 13 | checking, not pending       | peer answers epoch > ours, or primary in our epoch      | fenced                     | fence(max(its, ours + 1)); checking ends                       |
 * | 14 | checking, not pending       | peer answers backup in ≤ our epoch                      | primary                    | create sender; positions check (start)                         |
 * | 15 | checking, role now backup   | peer answer (stale)                                     | same                       | checking ends                                                  |
 * | 16 | positions check             | positions unavailable                                   | same                       | warn; start sender (unless held/fenced/pending); checking ends |
 * | 17 | positions check             | positions answer with epoch > ours                      | fenced                     | fence(its epoch); checking ends                                |
 * | 18 | positions check             | positions answer in ≤ our epoch                         | same                       | reconcile (queues what the backup lacks)                       |
 * | 19 | reconciled                  | backup (or role unknown) ahead in some vaults           | held backup_ahead          | hold CV-5018 (persisted) + alert, sender stopped; checking ends|
 * | 20 | reconciled, held by positions/push counter | backup no longer ahead                   | primary                    | hold cleared (persisted); resync noted; start sender           |
 * | 21 | reconciled                  | nothing ahead                                           | same                       | resync noted if revisions queued; start sender; checking ends  |
 * | 22 | primary                     | hello from a POP that is not the configured backup      | same                       | warn, ignored                                                  |
 * | 23 | primary, pending            | hello from the backup                                   | same                       | recheck (start check again)                                    |
 * | 24 | any, not pending            | hello with epoch > ours                                 | primary: fenced; backup: same | fence(its epoch) (backup: seen raised only)                 |
 * | 25 | any, not pending            | hello in ≤ our epoch                                    | same                       | positions check (later)                                        |
 * | 26 | backup (or any)             | the primary answers our hello with epoch > seen         | same                       | seen raised (never fences: a backup's hello)                   |
 * | 27 | primary or fenced           | push from the peer with epoch > ours                    | fenced                     | fence(its epoch); the peer is known to be primary              |
 * | 28 | backup                      | push adopted with epoch > ours                          | backup                     | epoch := its epoch (persisted before applying)                 |
 * | 29 | primary                     | sender: peer acked/refused with a higher epoch          | fenced                     | fence(its epoch); peer known primary when it said NOT_A_BACKUP |
 * | 30 | primary                     | sender: a push diverged (backup holds other revisions)  | held backup_ahead          | hold CV-5018 (cause diverged) + alert, sender stopped          |
 * | 31 | primary                     | sender: push counter behind the backup's (CV-5019)      | same                       | positions check (later)                                        |
 * | 32 | role = directive's from-role| control-plane promote, epoch ≤ seen                     | same                       | error log, directive refused                                   |
 * | 33 | role = directive's from-role| control-plane promote/demote (otherwise)                | as reload, below           | applyDirective (shell swaps roles, persists, reloads)          |
 * | 34 | any                         | control-plane answer epoch > seen                       | primary: fenced; else same | fence(its epoch) / seen raised                                 |
 * | 35 | primary (reported)          | control-plane answer with lease ttl > 0                 | same                       | lease until max(lease, sent_at + ttl) (renewal)                |
 * | 36 | primary, control plane set  | a client write at or after the lease end (expiry)       | same                       | write refused CV-5015 (`writeRefusal`; no timer)               |
 * | 37 | primary                     | reload (SIGHUP) role backup                             | backup                     | sender discarded; drain, resync, hold cleared; demote unless pending; last role backup; sendHello |
 * | 38 | backup                      | reload role primary by a directive (epoch e)            | primary                    | promote(e); positions check (later); heartbeat now             |
 * | 39 | backup                      | reload role primary (file)                              | primary, pending, checking | checkPeer (start check, as 8; held as 11 if the peer is primary)|
 * | 40 | primary, fenced             | reload, same role                                       | fenced                     | fence(seen)                                                    |
 * | 41 | primary                     | reload, same role                                       | same                       | recheck                                                        |
 * | 42 | backup                      | reload, same role                                       | backup                     | last role backup; sendHello                                    |
 * | 43 | any                         | reload whose file role disagrees with a directive       | same (role kept)           | warn CV-5020 (the shell keeps the directed role)               |
 * | 44 | any                         | directive demote (epoch e) before its reload            | as 36                      | seen := e; lease 0; heartbeat now                              |
 * | 45 | primary (reported)          | drain                                                   | draining                   | writes 503 CV-5008; warn; resume sender                        |
 * | 46 | any                         | resume (operator)                                       | not draining               | held or pending: recheck; else resume sender                   |
 * | 47 | primary, pending, held CV-5017 | promote --force                                      | primary                    | error log (override); hold cleared; promote(seen + 1); positions check |
 * | 48 | otherwise                   | promote --force                                         | same                       | reject NOTHING_TO_FORCE (CV-5021)                              |
 * | 49 | held (any)                  | start check / positions check ends                      | same                       | the hold's alert once per process (a persisted hold too)       |
 *
 * Invariants (property-tested in test/unit/role-machine.test.ts): `seen ≥ epoch`; `seen` never
 * decreases; a POP takes client writes only as an unfenced, unheld, settled (not checking) primary.
 * `epoch` changes only by promotion (above every epoch seen: the shell refuses a directive below,
 * row 32) or by adopting a higher epoch from a push (row 28).
 */
import type { Directive } from '../controlplane/protocol.js';
import type { PeerInfo } from './wire.js';
import type { WriteRefusal } from '../edition/edition.js';
import { Errors } from '../lib/errors.js';
import { MAX_EPOCH } from '../lib/epoch-bounds.js';

/** Running (configured) role. */
export type Role = 'primary' | 'backup';
/** Role as reported to peers, status and the control plane. */
export type ReportedRole = 'primary' | 'backup' | 'fenced';
/** Which check a positions request belongs to: the start check (ends `checking`) or a later one. */
export type Phase = 'start' | 'later';

/**
 * Why a POP configured primary takes no client writes although no higher epoch fenced it
 * (issue 11 items 2–3; DESIGN.md §4.5): its peer answers as a live primary (`peer_is_primary`,
 * CV-5017), or its backup holds revisions it lacks (`backup_ahead`, CV-5018). Shown in status
 * `hold`; `since` is an ISO time for display.
 */
export interface WriteHold {
  readonly reason: 'peer_is_primary' | 'backup_ahead';
  readonly code: string;
  readonly message: string;
  readonly since: string;
  /** The peer as it answered (pop_id, role, epoch), when known. */
  readonly peer: PeerInfo | null;
  /** Vaults where the backup is ahead or diverged (backup_ahead only). */
  readonly vaults: readonly string[];
  /** How it was learnt: the peer's epoch answer, the backup's positions, a diverged push, or the push counter. */
  readonly cause: 'peer_epoch' | 'positions' | 'diverged' | 'push_counter';
}

/** The POP's role facts; `epoch`, `seen`, `lastRole` and a backup-ahead `hold` mirror node.db. */
export interface RoleState {
  readonly role: Role;
  /** This POP's pop_id and its configured peer's (backup_pop for a primary, primary_pop for a backup). */
  readonly popId: string;
  readonly peerId: string | null;
  /** Epoch this POP writes in (primary) or has accepted (backup). */
  readonly epoch: number;
  /** Highest epoch heard of from anyone (≥ epoch). */
  readonly seen: number;
  /** Persisted last role (start-up rows 1–5), null on a fresh POP. */
  readonly lastRole: Role | null;
  /** Configured primary waiting for the peer check before promotion. */
  readonly pending: boolean;
  /** The start check runs: client writes 503 CV-5012. */
  readonly checking: boolean;
  readonly hold: WriteHold | null;
  /** The current hold's alert was raised by this process. */
  readonly holdAnnounced: boolean;
  /** Drain for a planned switchover: writes 503 CV-5008. */
  readonly draining: boolean;
  /** Control-plane lease end, monotonic milliseconds; 0 without one. */
  readonly leaseUntilMs: number;
  /** The source of the higher epoch that fenced this POP said the peer is the primary (X-Primary-Location). */
  readonly peerIsPrimary: boolean;
}

/** Events, one per row group of the table above. */
export type RoleEvent =
  | { kind: 'boot'; source: 'file' | 'control_plane'; fileRole: Role }
  | { kind: 'start' }
  | { kind: 'peerEpoch'; info: PeerInfo | null; error?: string; atIso: string }
  | { kind: 'positionsFailed'; phase: Phase; error: string }
  /** `positions`: the backup's answer (wire.ts PositionsAnswer), passed through to `reconcile` unread. */
  | { kind: 'positionsAnswered'; phase: Phase; epoch: number; role?: ReportedRole; positions: unknown }
  | { kind: 'positionsSkipped'; phase: Phase }
  | { kind: 'reconciled'; phase: Phase; ahead: readonly string[]; revisions: number; vaults: number; peerRole?: ReportedRole; peerEpoch: number; atIso: string }
  | { kind: 'hello'; peer: PeerInfo }
  | { kind: 'helloAnswered'; epoch: number }
  | { kind: 'higherEpoch'; source: 'push' | 'sender'; epoch: number; peerIsPrimary: boolean }
  | { kind: 'pushAdopted'; epoch: number }
  | { kind: 'pushDiverged'; vaults: readonly string[]; atIso: string }
  | { kind: 'pushCounterBehind' }
  | { kind: 'controlPlaneAnswer'; epoch: number; leaseTtlMs: number; directive: Directive | null; sentAtMs: number }
  | { kind: 'reload'; role: Role; popId: string; peerId: string | null; source: 'file' | 'control_plane'; fileRole: Role; directive?: Directive }
  | { kind: 'drain' }
  | { kind: 'resume' }
  | { kind: 'forcePromote' };

/** Plain-data effects, performed in order by the shell (pop.ts). */
export type RoleEffect =
  | { kind: 'persistEpoch'; epoch: number }
  | { kind: 'persistSeen'; seen: number }
  | { kind: 'persistLastRole'; role: Role }
  | { kind: 'persistHold'; hold: WriteHold | null }
  | { kind: 'quarantineBacklog'; popId: string; epoch: number }
  | { kind: 'stopSender'; discard: boolean }
  | { kind: 'releaseWaiters' }
  | { kind: 'createSender' }
  | { kind: 'startSender' }
  | { kind: 'resumeSender' }
  | { kind: 'clearResync' }
  | { kind: 'noteResync'; revisions: number; vaults: number }
  | { kind: 'alert'; reason: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; fields: Record<string, unknown>; msg: string }
  | { kind: 'sendHello' }
  | { kind: 'checkPeer' }
  | { kind: 'fetchPositions'; phase: Phase; timeoutMs?: number }
  | { kind: 'reconcile'; phase: Phase; positions: unknown; peerRole?: ReportedRole; peerEpoch: number }
  | { kind: 'applyDirective'; directive: Directive }
  | { kind: 'beatNow' }
  | { kind: 'reject'; error: 'NOTHING_TO_FORCE' };

/** What `step` returns. */
export interface StepResult {
  readonly state: RoleState;
  readonly effects: readonly RoleEffect[];
}

/** How long a starting primary waits for its peer's epoch and positions, in milliseconds (issue 3). */
export const EPOCH_CHECK_TIMEOUT_MS = 3000;

/** Error codes quoted in logs and holds, from the one registry (src/lib/errors.ts: plain data). */
const CODE = {
  FENCED: Errors.FENCED.code, PEER_IS_PRIMARY: Errors.PEER_IS_PRIMARY.code, BACKUP_AHEAD: Errors.BACKUP_AHEAD.code, ROLE_FILE_DISAGREES: Errors.ROLE_FILE_DISAGREES.code,
  EPOCH_REFUSED: Errors.EPOCH_REFUSED.code,
} as const;

/** The state before `boot`: persisted facts of node.db plus the configuration's role and ids. */
export function initialState(o: { role: Role; popId: string; peerId: string | null; epoch: number; seen: number; lastRole: Role | null; hold: WriteHold | null }): RoleState {
  return {
    role: o.role, popId: o.popId, peerId: o.peerId, epoch: o.epoch, seen: Math.max(o.seen, o.epoch), lastRole: o.lastRole,
    pending: false, checking: false, hold: o.hold, holdAnnounced: false, draining: false, leaseUntilMs: 0, peerIsPrimary: false,
  };
}

/** Configured primary, no promotion pending, and a higher epoch seen (DESIGN.md §4.3 "fenced"). */
export function isFenced(s: RoleState): boolean {
  return s.role === 'primary' && !s.pending && s.seen > s.epoch;
}

/** The reported role: `fenced` when fenced or held (table header). */
export function reportedRole(s: RoleState): ReportedRole {
  return isFenced(s) || (s.role === 'primary' && s.hold !== null) ? 'fenced' : s.role;
}

/**
 * Whether a client write is refused now (DESIGN.md §4.3; rows 11, 19, 36, 45 and fencing), and with
 * which headers. `nowMs` is monotonic; `retryAfterSeconds` goes into Retry-After; `backupUrl` /
 * `primaryUrl` are the configured peers' URLs. A backup, and a fenced POP whose fencing source said
 * its peer is the primary (rows 13, 17, 27, 29), name the primary in X-Primary-Location.
 */
export function writeRefusal(s: RoleState, o: { nowMs: number; controlPlane: boolean; retryAfterSeconds: number; backupUrl?: string; primaryUrl?: string }): WriteRefusal | undefined {
  const headers: Record<string, string> = { 'retry-after': String(o.retryAfterSeconds) };
  if (s.role === 'primary' && s.hold && !isFenced(s)) {
    if (s.hold.reason === 'backup_ahead') return { error: 'BACKUP_AHEAD', headers };
    return { error: 'PEER_IS_PRIMARY', headers: o.backupUrl ? { ...headers, 'x-primary-location': o.backupUrl } : headers };
  }
  const r = reportedRole(s);
  if (r === 'primary') {
    if (s.checking) return { error: 'STARTING', headers: { 'retry-after': '1' } };
    if (o.controlPlane && o.nowMs >= s.leaseUntilMs) return { error: 'LEASE_EXPIRED', headers: { 'retry-after': '1' } };
    if (s.draining) return { error: 'DRAINING', headers };
    return undefined;
  }
  if (r === 'fenced') {
    if (s.peerIsPrimary && o.backupUrl) headers['x-primary-location'] = o.backupUrl;
    return { error: 'FENCED', headers };
  }
  if (o.primaryUrl) headers['x-primary-location'] = o.primaryUrl;
  return { error: 'READ_ONLY_BACKUP', headers };
}

/** Accumulates a step's state and effects. */
class Acc {
  fx: RoleEffect[] = [];
  constructor(public s: RoleState) {}
  set(p: Partial<RoleState>): void {
    this.s = { ...this.s, ...p };
  }
  emit(...e: RoleEffect[]): void {
    this.fx.push(...e);
  }
  log(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string): void {
    this.fx.push({ kind: 'log', level, fields, msg });
  }
  done(): StepResult {
    return { state: this.s, effects: this.fx };
  }
}

/** seen := max(seen, e); true when e was newly seen. */
function observe(a: Acc, e: number): boolean {
  if (e <= a.s.seen) return false;
  a.set({ seen: e });
  a.emit({ kind: 'persistSeen', seen: e });
  return true;
}

/** Sets the epoch (raising seen with it), persisted. */
function setEpoch(a: Acc, e: number): void {
  a.set({ epoch: e, seen: Math.max(a.s.seen, e) });
  a.emit({ kind: 'persistEpoch', epoch: e });
}

/** fence(e) of the table header. `peerIsPrimary`: the source said the peer is the primary. */
function fence(a: Acc, higher: number, peerIsPrimary = false): void {
  const newly = observe(a, higher);
  if (!isFenced(a.s)) return;
  if (peerIsPrimary) a.set({ peerIsPrimary: true });
  a.emit({ kind: 'stopSender', discard: false }, { kind: 'releaseWaiters' });
  if (!newly) return;
  a.emit({ kind: 'alert', reason: 'fenced' });
  a.log('error', { event: 'pop.fenced', code: CODE.FENCED, epoch: a.s.epoch, seen_epoch: a.s.seen },
    `${CODE.FENCED}: POP ${a.s.popId} is configured primary but epoch ${a.s.seen} exists elsewhere; refusing client writes. Make it a backup (edit replication.yaml, SIGHUP) to rejoin.`);
}

/** Demotion (§4.4.7): the successor's epoch is reserved, unacknowledged revisions quarantined. */
function demote(a: Acc, popId: string): void {
  observe(a, a.s.epoch + 1);
  a.emit({ kind: 'quarantineBacklog', popId, epoch: a.s.epoch });
}

/** Promotion (§4.4.6): epoch = assigned, or one more than the highest seen. */
function promote(a: Acc, assigned?: number): void {
  const next = assigned ?? a.s.seen + 1;
  if (next > MAX_EPOCH) {
    // Never take an epoch the schemas refuse (issue 13 §1): the peer would refuse every push.
    a.log('error', { event: 'pop.promotion_refused', code: CODE.EPOCH_REFUSED, epoch: next }, `${CODE.EPOCH_REFUSED}: not promoting ${a.s.popId} to epoch ${next}: above the largest epoch allowed (${MAX_EPOCH})`);
    return;
  }
  a.set({ pending: false, peerIsPrimary: false });
  setEpoch(a, next);
  a.log('warn', { event: 'pop.promoted', epoch: next }, `POP ${a.s.popId} promoted to primary in epoch ${next}`);
  a.set({ lastRole: 'primary' });
  a.emit({ kind: 'persistLastRole', role: 'primary' });
  if (!a.s.hold) a.emit({ kind: 'createSender' });
}

function holdMessage(s: RoleState, h: Pick<WriteHold, 'reason' | 'peer' | 'vaults'>): string {
  return h.reason === 'peer_is_primary'
    ? `${CODE.PEER_IS_PRIMARY}: POP ${s.popId} is configured primary but its peer ${h.peer?.pop_id ?? '?'} answers as a live primary in epoch ${h.peer?.epoch ?? '?'}; not promoting, refusing client writes. Demote ${h.peer?.pop_id ?? 'the peer'} first (then SIGHUP or resume this POP), make this POP a backup, or override with clavitor-commercial promote --force`
    : `${CODE.BACKUP_AHEAD}: POP ${s.popId} is primary but its backup holds revisions it lacks in ${h.vaults.length} vault(s) (data restored from an older snapshot?); refusing client writes until an operator resolves it (docs/operations.md "A primary behind its backup")`;
}

/** Holds client writes back (rows 11, 19, 30): sender stopped and discarded, waiters released, alert on a new reason. */
function setHold(a: Acc, h: Pick<WriteHold, 'reason' | 'cause' | 'peer' | 'vaults'>, atIso: string): void {
  const prev = a.s.hold;
  const fresh = prev?.reason !== h.reason;
  const hold: WriteHold = {
    ...h, code: h.reason === 'peer_is_primary' ? CODE.PEER_IS_PRIMARY : CODE.BACKUP_AHEAD, message: holdMessage(a.s, h),
    since: fresh || !prev ? atIso : prev.since,
  };
  a.set({ hold, ...(fresh ? { holdAnnounced: false } : {}) });
  if (h.reason === 'backup_ahead') a.emit({ kind: 'persistHold', hold });
  a.emit({ kind: 'stopSender', discard: true }, { kind: 'releaseWaiters' });
  announceHold(a);
}

/** The alert of a hold, once per hold and process (row 49). */
function announceHold(a: Acc): void {
  const h = a.s.hold;
  if (!h || a.s.holdAnnounced) return;
  a.set({ holdAnnounced: true });
  a.emit({ kind: 'alert', reason: h.reason });
  a.log('error', { event: `pop.${h.reason}`, code: h.code, cause: h.cause, peer: h.peer, vaults: h.vaults.slice(0, 20) }, h.message);
}

function clearHold(a: Acc, why: string): void {
  const h = a.s.hold;
  if (!h) return;
  a.log('warn', { event: 'pop.hold_cleared', reason: h.reason }, `client writes no longer held back (${h.reason}): ${why}`);
  a.set({ hold: null, holdAnnounced: false });
  a.emit({ kind: 'persistHold', hold: null });
}

/** Whether a positions check may run / the sender may start: primary, not fenced, not pending. */
const settledPrimary = (s: RoleState): boolean => s.role === 'primary' && !isFenced(s) && !s.pending;

/** Starts a positions check, or — when none may run — ends the start phase at once. */
function positionsCheck(a: Acc, phase: Phase, timeoutMs?: number): void {
  if (settledPrimary(a.s)) a.emit({ kind: 'fetchPositions', phase, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  else endCheck(a, phase);
}

/** Start sender unless held, fenced or pending; then end the start phase (rows 16, 20, 21). */
function positionsTail(a: Acc, phase: Phase): void {
  if (!a.s.hold && settledPrimary(a.s)) a.emit({ kind: 'startSender' });
  endCheck(a, phase);
}

function endCheck(a: Acc, phase: Phase): void {
  if (phase !== 'start') return;
  announceHold(a);
  a.set({ checking: false });
}

/** The start check (rows 7, 8, 39): fenced already, or ask the peer while refusing writes. */
function startCheck(a: Acc): void {
  if (isFenced(a.s)) return fence(a, a.s.seen);
  a.set({ checking: true });
  a.emit({ kind: 'checkPeer' });
}

function recheck(a: Acc): void {
  if (a.s.role !== 'primary' || isFenced(a.s)) return;
  if (a.s.pending) startCheck(a);
  else positionsCheck(a, 'later');
}

function roleSourceWarning(a: Acc, fileRole: Role): void {
  a.log('warn', { event: 'pop.role_from_control_plane', code: CODE.ROLE_FILE_DISAGREES, role: a.s.role, file_role: fileRole },
    `${CODE.ROLE_FILE_DISAGREES}: running as ${a.s.role} by a control-plane directive; replication.yaml says ${fileRole}. No role change happens until the file says role: "${a.s.role}" (or the control plane directs otherwise)`);
}

/** One transition of the table above. Never throws; unknown combinations change nothing. */
export function step(state: RoleState, ev: RoleEvent): StepResult {
  const a = new Acc(state);
  const s = state;
  switch (ev.kind) {
    case 'boot': {
      if (s.role === 'primary' && s.lastRole === 'backup') a.set({ pending: true });
      else if (s.role === 'primary' && s.epoch === 0) setEpoch(a, Math.max(1, s.seen));
      else if (s.role === 'backup' && s.lastRole === 'primary') demote(a, s.popId);
      if (s.role === 'backup') a.set({ hold: null });
      const last: Role = a.s.pending ? 'backup' : s.role;
      a.set({ lastRole: last });
      a.emit({ kind: 'persistLastRole', role: last });
      if (ev.source === 'control_plane') roleSourceWarning(a, ev.fileRole);
      break;
    }
    case 'start':
      if (s.role === 'primary') startCheck(a);
      else a.emit({ kind: 'sendHello' });
      break;
    case 'peerEpoch': {
      if (s.role !== 'primary') {
        a.set({ checking: false });
        break;
      }
      const info = ev.info;
      if (!info) {
        a.log('warn', { event: 'pop.peer_epoch_unknown', error: ev.error ?? 'no answer' }, 'backup did not answer the epoch check; accepting writes in our own epoch (see docs/operations.md)');
      } else if (s.pending) {
        observe(a, info.epoch);
        if (info.role === 'primary') {
          setHold(a, { reason: 'peer_is_primary', cause: 'peer_epoch', peer: info, vaults: [] }, ev.atIso);
          a.set({ checking: false });
          break;
        }
      } else if (info.epoch > s.epoch || (info.role === 'primary' && info.epoch === s.epoch)) {
        fence(a, Math.max(info.epoch, s.epoch + 1), info.role === 'primary');
        a.set({ checking: false });
        break;
      }
      if (a.s.pending) {
        if (a.s.hold?.reason === 'peer_is_primary') clearHold(a, 'the peer no longer answers as a live primary');
        promote(a);
      }
      if (!a.s.hold) a.emit({ kind: 'createSender' });
      positionsCheck(a, 'start', EPOCH_CHECK_TIMEOUT_MS);
      break;
    }
    case 'positionsFailed':
      a.log('warn', { event: 'replication.positions_unavailable', error: ev.error }, 'backup positions unavailable; the stream resumes as usual');
      positionsTail(a, ev.phase);
      break;
    case 'positionsSkipped':
      endCheck(a, ev.phase);
      break;
    case 'positionsAnswered':
      if (!settledPrimary(s)) positionsTail(a, ev.phase);
      else if (ev.epoch > s.epoch) {
        fence(a, ev.epoch, ev.role === 'primary');
        endCheck(a, ev.phase);
      } else {
        a.emit({ kind: 'reconcile', phase: ev.phase, positions: ev.positions, ...(ev.role ? { peerRole: ev.role } : {}), peerEpoch: ev.epoch });
      }
      break;
    case 'reconciled':
      if (ev.ahead.length > 0 && (ev.peerRole === undefined || ev.peerRole === 'backup')) {
        setHold(a, { reason: 'backup_ahead', cause: 'positions', peer: { pop_id: s.peerId ?? '', role: 'backup', epoch: ev.peerEpoch }, vaults: [...ev.ahead] }, ev.atIso);
        endCheck(a, ev.phase);
        break;
      }
      if (s.hold?.reason === 'backup_ahead' && s.hold.cause !== 'diverged' && ev.ahead.length === 0) clearHold(a, 'the backup no longer holds revisions this POP lacks');
      if (ev.revisions > 0) a.emit({ kind: 'noteResync', revisions: ev.revisions, vaults: ev.vaults });
      positionsTail(a, ev.phase);
      break;
    case 'hello':
      if (s.role === 'primary' && ev.peer.pop_id !== s.peerId) {
        a.log('warn', { event: 'replication.hello_ignored', peer: ev.peer.pop_id, expected: s.peerId }, `hello from ${ev.peer.pop_id}, which is not this POP's configured backup; ignored`);
        break;
      }
      a.log('info', { event: 'replication.hello', peer: ev.peer.pop_id, peer_epoch: ev.peer.epoch }, 'backup announced itself');
      if (s.pending) {
        recheck(a);
        break;
      }
      if (ev.peer.epoch > s.epoch) fence(a, ev.peer.epoch);
      if (settledPrimary(a.s)) a.emit({ kind: 'fetchPositions', phase: 'later' });
      break;
    case 'helloAnswered':
      observe(a, ev.epoch);
      break;
    case 'higherEpoch':
      if (ev.epoch > s.epoch) fence(a, ev.epoch, ev.peerIsPrimary);
      break;
    case 'pushAdopted':
      if (ev.epoch > s.epoch) setEpoch(a, ev.epoch);
      break;
    case 'pushDiverged':
      if (s.role === 'primary') setHold(a, { reason: 'backup_ahead', cause: 'diverged', peer: null, vaults: [...new Set(ev.vaults)] }, ev.atIso);
      break;
    case 'pushCounterBehind':
      if (settledPrimary(s)) a.emit({ kind: 'fetchPositions', phase: 'later' });
      break;
    case 'controlPlaneAnswer': {
      const d = ev.directive;
      const fromRole: Role = d?.action === 'promote' ? 'backup' : 'primary';
      if (d && s.role === fromRole) {
        if (d.action === 'promote' && d.epoch <= s.seen) {
          a.log('error', { event: 'controlplane.directive_refused', action: d.action, epoch: d.epoch, seen_epoch: s.seen }, `refusing promotion to epoch ${d.epoch}: this POP has already seen epoch ${s.seen}`);
        } else {
          a.emit({ kind: 'applyDirective', directive: d });
        }
        break;
      }
      if (ev.epoch > s.seen) {
        if (s.role === 'primary') fence(a, ev.epoch);
        else observe(a, ev.epoch);
      }
      if (reportedRole(a.s) === 'primary' && ev.leaseTtlMs > 0) a.set({ leaseUntilMs: Math.max(a.s.leaseUntilMs, ev.sentAtMs + ev.leaseTtlMs) });
      break;
    }
    case 'reload': {
      const prevRole = s.role;
      const prevPopId = s.popId;
      const d = ev.directive;
      if (d) {
        if (d.action === 'demote') observe(a, d.epoch);
        a.set({ leaseUntilMs: 0 });
      }
      a.set({ role: ev.role, popId: ev.popId, peerId: ev.peerId, peerIsPrimary: false });
      if (ev.source === 'control_plane' && !d) roleSourceWarning(a, ev.fileRole);
      if (prevRole === 'primary' && ev.role === 'backup') {
        a.emit({ kind: 'stopSender', discard: true }, { kind: 'releaseWaiters' }, { kind: 'clearResync' });
        a.set({ draining: false });
        clearHold(a, 'this POP is now a backup');
        // Never promoted (held or still checking): nothing of its own to set aside.
        if (a.s.pending) a.set({ pending: false });
        else demote(a, prevPopId);
        a.set({ lastRole: 'backup' });
        a.emit({ kind: 'persistLastRole', role: 'backup' }, { kind: 'sendHello' });
      } else if (prevRole === 'backup' && ev.role === 'primary') {
        if (d) {
          // Control-plane directive: the control plane holds the lease, so its epoch is taken as is.
          promote(a, d.epoch);
          positionsCheck(a, 'later');
        } else {
          a.set({ pending: true });
          startCheck(a);
        }
      } else if (ev.role === 'primary') {
        if (isFenced(a.s)) fence(a, a.s.seen);
        else recheck(a);
      } else {
        a.set({ lastRole: 'backup' });
        a.emit({ kind: 'persistLastRole', role: 'backup' }, { kind: 'sendHello' });
      }
      if (d) a.emit({ kind: 'beatNow' });
      break;
    }
    case 'drain':
      if (reportedRole(s) !== 'primary') break;
      a.set({ draining: true });
      a.log('warn', { event: 'pop.drain' }, 'draining: client writes refused until the backlog is empty');
      a.emit({ kind: 'resumeSender' });
      break;
    case 'resume':
      a.set({ draining: false });
      if (s.hold || s.pending) recheck(a);
      else a.emit({ kind: 'resumeSender' });
      break;
    case 'forcePromote': {
      const h = s.hold;
      if (s.role !== 'primary' || !s.pending || h?.reason !== 'peer_is_primary') {
        a.emit({ kind: 'reject', error: 'NOTHING_TO_FORCE' });
        break;
      }
      a.log('error', { event: 'pop.force_promoted', code: CODE.PEER_IS_PRIMARY, peer: h.peer },
        `operator override: promoting ${s.popId} over ${h.peer?.pop_id ?? 'its peer'}, which answered as a live primary in epoch ${h.peer?.epoch ?? '?'}; that POP is fenced by this one's first push and its writes since then are quarantined when it is demoted`);
      clearHold(a, 'operator forced the promotion (promote --force)');
      promote(a);
      positionsCheck(a, 'later');
      break;
    }
  }
  return a.done();
}
