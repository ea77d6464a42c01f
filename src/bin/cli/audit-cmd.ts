/**
 * `clavitor-cli audit [verify]` (issue 6 item 4), owner token. `audit` prints the records of the
 * POP it talks to (each POP keeps the trail of the requests it served); `audit verify` pages
 * through all of them and recomputes the hash chain, naming the first broken record (exit 1).
 */
import type { Command } from 'commander';
import { createAuditVerifier, type AuditBreak } from '../../vault/audit.js';
import { fromAuditView, type AuditRecordView } from '../../vault/audit-service.js';
import type { Client } from './http.js';
import { contextOf } from './context.js';
import { EXIT } from './exit-codes.js';

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

/** Verifies the whole chain served by `client`, fetching `pageLimit` records per request. */
export async function verifyAudit(client: Client, pageLimit = PAGE_LIMIT): Promise<VerifyResult> {
  const v = createAuditVerifier();
  let broken: AuditBreak | undefined;
  let n = 0;
  await pageAudit(client, 0, (r) => {
    n++;
    broken = v.push(fromAuditView(r));
    return broken === undefined;
  }, pageLimit);
  return { ok: !broken, records: n, first_broken: broken ?? null };
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

async function verifyCmd(_o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const res = await verifyAudit(ctx.client());
  if (ctx.json) ctx.emit(res);
  else if (res.ok) ctx.line(`audit chain intact: ${res.records} records`);
  else ctx.line(`audit chain broken at record ${res.first_broken!.id}: ${WHY[res.first_broken!.reason]}`);
  if (!res.ok) process.exitCode = EXIT.FAILED_CHECK;
}

/** Adds `audit` and `audit verify` to `program`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('print the audit trail of this POP (owner token)')
    .option('--after <id>', 'start after this record id', '0')
    .action(auditCmd);
  audit.command('verify').description('recompute the hash chain; exit 1 naming the first broken record').action(verifyCmd);
}
