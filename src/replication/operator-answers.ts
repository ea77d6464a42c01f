/**
 * What the POP answers the operator commands of `clavitor-commercial` (verify, drain, resume,
 * promote, status), as zod schemas the commands check answers with (issue 16 item 2: no casts of
 * answers). Written next to the routes that send them (operator-routes.ts, routes.ts `digests`,
 * pop.ts `status()`); fields a newer POP adds pass, and a field the command does not read is not
 * required, so a community server's `GET /api/status` (`replication: null`) passes too.
 */
import { z } from 'zod';
import { PeerInfoAnswer } from './wire.js';

/** `GET /replication/v1/digests` (verify): the POP's identity and each vault's head seq and digest (digest.ts). */
export const DigestsAnswer = PeerInfoAnswer.extend({
  vaults: z.record(z.string(), z.object({ seq: z.number(), digest: z.string() })),
});
/** Parsed digests answer. */
export type DigestsAnswer = z.infer<typeof DigestsAnswer>;

/** `POST /admin/v1/drain`: whether the backlog reached 0 within the timeout. */
export const DrainAnswer = z.object({ drained: z.boolean(), backlog: z.number(), role: z.string() });
/** Parsed drain answer. */
export type DrainAnswer = z.infer<typeof DrainAnswer>;

/** `POST /admin/v1/resume`: the sender's state after the resume. */
export const ResumeAnswer = z.object({ state: z.string(), draining: z.boolean() });
/** Parsed resume answer. */
export type ResumeAnswer = z.infer<typeof ResumeAnswer>;

/** `POST /admin/v1/promote` `{"force":true}`: the role and epoch taken. */
export const PromoteAnswer = z.object({ role: z.string(), epoch: z.number() });
/** Parsed promote answer. */
export type PromoteAnswer = z.infer<typeof PromoteAnswer>;

/** `replication.in_flight` of status: the push connection's progress (peer-client.ts `PushProgress`). */
const InFlight = z.looseObject({ pushes: z.number(), revisions: z.number(), bytes: z.number(), bytes_sent: z.number(), idle_ms: z.number() });

/**
 * `GET /api/status` of a POP (edition.ts `StatusBody`, plus the commercial fields of pop.ts
 * `status()`), as far as `clavitor-commercial status` reads it. Loose at every level: `--json`
 * prints the parsed answer, which must keep every field the POP sent.
 */
export const PopStatusAnswer = z.looseObject({
  edition: z.string().optional(),
  role: z.string(),
  pop_id: z.string().nullable().optional(),
  region: z.string().nullable().optional(),
  epoch: z.number(),
  draining: z.boolean().optional(),
  role_source: z.string().optional(),
  file_role: z.string().nullable().optional(),
  hold: z.looseObject({ reason: z.string(), message: z.string() }).nullable().optional(),
  replication: z.looseObject({
    peer: z.string().nullable().optional(),
    state: z.string().optional(),
    backlog: z.number().optional(),
    lag_seconds: z.number().optional(),
    pushes_sent: z.number().optional(),
    pushes_received: z.number().optional(),
    last_ack_at: z.string().nullable().optional(),
    revisions_acknowledged: z.number().optional(),
    retries: z.number().optional(),
    probes: z.number().optional(),
    alerts: z.number().optional(),
    in_flight: InFlight.nullable().optional(),
    last_error: z.string().nullable().optional(),
    resync: z.looseObject({ queued_revisions: z.number(), remaining: z.number(), progress: z.number() }).nullable().optional(),
  }).nullable().optional(),
});
/** Parsed status answer. */
export type PopStatusAnswer = z.infer<typeof PopStatusAnswer>;
