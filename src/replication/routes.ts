/**
 * Replication routes, registered by the commercial edition only (the community build serves
 * none: 404). All require the inter-POP bearer token (DESIGN.md §4.4.12); failures are logged
 * with the source address, never with the presented token.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../http/error-handler.js';
import { parseInput } from '../http/parse.js';
import { Errors, cvError } from '../lib/errors.js';
import { bearerTokenAccepted } from '../lib/bearer-token.js';
import { PUSH_MAC_HEADER, pushMacValid } from './push-mac.js';
import { DIGESTS_PATH, EPOCH_PATH, HELLO_PATH, POSITIONS_PATH, PUSH_BODY_LIMIT_BYTES, PUSH_PATH, PeerInfo, PushBody, type PositionsAnswer, type PushAck } from './wire.js';
import type { VaultDigest } from './digest.js';
import { createPushOrder, type PushTurn } from './push-order.js';
import { registerAnchorRoute, type AnchorRouteDeps } from './anchors.js';
import { NONCE_HEADER, POP_HEADER, SIGNATURE_HEADER, SIGNER_HEADER, signParts, signatureValid } from './signature.js';
import { epochClaimProblem } from '../lib/epoch-bounds.js';
import type { KeyObject } from 'node:crypto';

/** What the routes need from the POP. */
export interface ReplicationRouteDeps {
  /** Tokens accepted from peers (read at each request so that SIGHUP rotation applies). */
  acceptTokens(): readonly string[];
  /**
   * Why the caller's TLS client certificate is not acceptable, or undefined (mutual TLS; DESIGN.md
   * §4.4.12). `allowSelf`: a certificate naming this POP itself is accepted too (digests only).
   */
  peerCertificateProblem(req: FastifyRequest, allowSelf?: boolean): string | undefined;
  /** This POP's identity and role. */
  self(): PeerInfo;
  /**
   * Applies a validated push (throws registered errors). Only called when role is backup.
   * `peerCert` is the SHA-256 fingerprint of the sender's TLS client certificate, when it sent one.
   * The push must take its place in the apply order synchronously (it joins the POP's group commit
   * in the call); the promise settles once it is committed and on disk (issue 12 item 4).
   */
  applyPush(push: PushBody, peerCert: string | undefined): Promise<PushAck>;
  /** A push reached this POP while it is not a backup; it may carry a higher epoch (fencing). */
  onPushWhileNotBackup(push: PushBody): void;
  /**
   * This POP's replication position (full resync; issue 12 item 3): last LSN, epoch history, and the
   * vaults holding revisions past `afterLsn`. O(1) in the number of vaults.
   */
  positions(afterLsn: number): Omit<PositionsAnswer, 'epoch' | 'role'>;
  /** Digest of every vault (verify). */
  digests(): Record<string, VaultDigest>;
  /** A backup announced itself (primary only). */
  onHello(peer: PeerInfo): void;
  /** Called on an authentication failure with its reason (for the log, audit and rate limiting). */
  onAuthFailure(req: FastifyRequest, reason: string): void;
  /** Audit anchors from the peer (issue 13 §3; anchors.ts), authenticated like pushes. */
  anchors?: AnchorRouteDeps;
  /** This POP's signing key (signs every answer), when configured (issue 13 §1). */
  signingKey(): KeyObject | undefined;
  /** The pinned public key of the peer POP (verifies hello and pushes), when configured. */
  peerPublicKey(): KeyObject | undefined;
  /** A hello or push was refused for its signature (CV-5040): log, count. */
  onSignatureRefused(req: FastifyRequest, reason: string): void;
  /** Highest epoch this POP has seen (bound of plausible claims, lib/epoch-bounds.ts). */
  seenEpoch(): number;
  /** A signed hello or push claimed an epoch out of bounds (CV-5041): alert log, count. */
  onEpochRefused(req: FastifyRequest, claim: unknown, reason: string): void;
}

/** Registers push, hello, epoch, positions and digests in their own scope (raw-body JSON parser for the push MAC). */
export async function replicationRoutes(root: FastifyInstance, deps: ReplicationRouteDeps): Promise<void> {
  await root.register(async (app) => routesInScope(app, deps));
}

async function routesInScope(app: FastifyInstance, deps: ReplicationRouteDeps): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = String(body);
    (req as FastifyRequest & { rawBody?: string }).rawBody = text;
    try {
      done(null, text.length > 0 ? JSON.parse(text) : {});
    } catch {
      done(cvError('PUSH_INVALID', 'body is not valid JSON'), undefined);
    }
  });

  const authenticateAs = (allowSelf: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const certProblem = deps.peerCertificateProblem(req, allowSelf);
    if (certProblem) {
      deps.onAuthFailure(req, certProblem);
      return sendError(reply, Errors.REPLICATION_AUTH.code, 401, `${Errors.REPLICATION_AUTH.message}: ${certProblem}`);
    }
    if (bearerTokenAccepted(req.headers.authorization, deps.acceptTokens())) return;
    deps.onAuthFailure(req, 'bad or missing bearer token');
    return sendError(reply, Errors.REPLICATION_AUTH.code, 401, Errors.REPLICATION_AUTH.message);
  };
  const authenticate = authenticateAs(false);

  // Every answer is signed with this POP's key over the request's nonce (issue 13 §1): the peer
  // adopts nothing (an epoch included) from an answer that does not verify with the key it pins.
  app.addHook('onSend', async (req, reply, payload) => {
    const key = deps.signingKey();
    if (!key || (typeof payload !== 'string' && payload !== null && payload !== undefined)) return payload;
    const body = typeof payload === 'string' ? payload : '';
    const nonce = req.headers[NONCE_HEADER];
    const signer = deps.self().pop_id;
    reply.header(SIGNER_HEADER, signer);
    reply.header(SIGNATURE_HEADER, signParts(key, { kind: 'answer', method: String(reply.statusCode), path: req.url.split('?')[0] ?? '', signer, nonce: typeof nonce === 'string' ? nonce : '', body }));
    return payload;
  });

  /**
   * Verifies a hello's or push's signature with the pinned peer key BEFORE any claim in it is
   * parsed (issue 13 §1), then bounds its epoch claim. Returns the signer's POP id; throws
   * PEER_SIGNATURE_INVALID (CV-5040) or EPOCH_REFUSED (CV-5041).
   */
  const verifySigned = (req: FastifyRequest, raw: string): string => {
    const signer = req.headers[POP_HEADER];
    const nonce = req.headers[NONCE_HEADER];
    const parts = { kind: 'request' as const, method: req.method, path: req.url.split('?')[0] ?? '', signer: typeof signer === 'string' ? signer : '', nonce: typeof nonce === 'string' ? nonce : '', body: raw };
    if (!signatureValid(deps.peerPublicKey(), req.headers[SIGNATURE_HEADER], parts)) {
      const reason = req.headers[SIGNATURE_HEADER] === undefined ? 'signature missing' : 'signature not made by the pinned peer key';
      deps.onSignatureRefused(req, reason);
      throw cvError('PEER_SIGNATURE_INVALID', `${Errors.PEER_SIGNATURE_INVALID.message} (${reason})`);
    }
    const claim = (req.body as { epoch?: unknown } | null)?.epoch;
    const problem = claim === undefined ? undefined : epochClaimProblem(claim, deps.seenEpoch());
    if (problem) {
      deps.onEpochRefused(req, claim, problem);
      throw cvError('EPOCH_REFUSED', `${Errors.EPOCH_REFUSED.message}: ${problem}`);
    }
    return parts.signer;
  };

  // Pipelined pushes apply in arrival order (push-order.ts): a place is taken on arrival, given up
  // when the request finishes whatever its outcome.
  const order = createPushOrder();
  type Ordered = FastifyRequest & { pushTurn?: PushTurn };
  const takeTurn = async (req: FastifyRequest): Promise<void> => {
    (req as Ordered).pushTurn = order.enter(req.raw.socket);
  };
  const endTurn = async (req: FastifyRequest): Promise<void> => {
    (req as Ordered).pushTurn?.finish();
  };
  app.post(PUSH_PATH, {
    bodyLimit: PUSH_BODY_LIMIT_BYTES,
    onRequest: [takeTurn, authenticate],
    onResponse: endTurn,
    onRequestAbort: endTurn,
  }, async function post_push(req) {
    const raw = (req as FastifyRequest & { rawBody?: string }).rawBody ?? '';
    const mac = req.headers[PUSH_MAC_HEADER];
    if (!pushMacValid(typeof mac === 'string' ? mac : undefined, raw, deps.acceptTokens())) {
      deps.onAuthFailure(req, 'push MAC missing or invalid (altered in flight?)');
      throw cvError('PUSH_MAC_INVALID');
    }
    const signer = verifySigned(req, raw);
    let push: PushBody;
    try {
      push = parseInput(PushBody, req.body);
    } catch (e) {
      throw cvError('PUSH_INVALID', (e as Error).message);
    }
    if (push.sender !== signer) {
      deps.onSignatureRefused(req, `push names sender ${push.sender} but is signed as ${signer}`);
      throw cvError('PEER_SIGNATURE_INVALID', `${Errors.PEER_SIGNATURE_INVALID.message} (sender is not the signer)`);
    }
    if (deps.self().role !== 'backup') {
      deps.onPushWhileNotBackup(push);
      throw cvError('NOT_A_BACKUP', undefined, { epoch: deps.self().epoch });
    }
    const socket = req.raw.socket as TLSSocket;
    const peerCert = socket.encrypted ? socket.getPeerCertificate()?.fingerprint256 : undefined;
    const turn = (req as Ordered).pushTurn;
    if (turn) await turn.ready;
    // The push joins the group commit in the call, in arrival order; the turn passes on at once,
    // so that the pushes of the window that arrive together commit in one transaction and one
    // fsync (the backup's side of group commit), each in its own savepoint: a refused one rolls
    // back alone, and the ones after it then fail as a gap, as they would one by one.
    let applied: Promise<PushAck>;
    try {
      applied = deps.applyPush(push, peerCert);
    } finally {
      turn?.finish();
    }
    return await applied;
  });

  app.post(HELLO_PATH, { onRequest: authenticate }, async function post_hello(req) {
    const signer = verifySigned(req, (req as FastifyRequest & { rawBody?: string }).rawBody ?? '');
    const peer = parseInput(PeerInfo, req.body);
    if (peer.pop_id !== signer) {
      deps.onSignatureRefused(req, `hello names ${peer.pop_id} but is signed as ${signer}`);
      throw cvError('PEER_SIGNATURE_INVALID', `${Errors.PEER_SIGNATURE_INVALID.message} (pop_id is not the signer)`);
    }
    deps.onHello(peer);
    return deps.self();
  });

  app.get(POSITIONS_PATH, { onRequest: authenticate }, async function get_positions(req) {
    const raw = (req.query as { after?: string } | undefined)?.after;
    const after = raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : Number.MAX_SAFE_INTEGER;
    const answer: PositionsAnswer = { epoch: deps.self().epoch, role: deps.self().role, ...deps.positions(after) };
    return answer;
  });

  // Read-only, for `verify`: the operator may present this POP's own certificate (issue 11 item 4).
  app.get(DIGESTS_PATH, { onRequest: authenticateAs(true) }, async function get_digests() {
    return { ...deps.self(), vaults: deps.digests() };
  });

  app.get(EPOCH_PATH, { onRequest: authenticate }, async function get_epoch() {
    return deps.self();
  });

  if (deps.anchors) registerAnchorRoute(app, authenticate, deps.anchors);
}
