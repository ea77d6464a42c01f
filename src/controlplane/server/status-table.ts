/**
 * `clavitor-control status` output: the control plane's status as aligned text tables, one line
 * per POP and a block per pair with the last decision and the current assessment. Every value
 * from a POP is stripped of control characters so a hostile report cannot drive the terminal.
 */
import type { ControlStatus, PopStatus } from './status.js';
import type { Directive } from '../protocol.js';

/** `s` without control characters (shown as `?`). */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, '?');
}

/** Milliseconds as `850ms`, `12.3s`, `4m05s` or `2h07m`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A directive as `promote@4` or `demote→zurich-01@4`, `-` for none. */
export function formatDirective(d: Directive | null): string {
  if (d === null) return '-';
  return d.action === 'promote' ? `promote@${d.epoch}` : `demote→${printable(d.primary_id)}@${d.epoch}`;
}

/** Rows as columns padded to their widest cell. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length))).join('  ').trimEnd());
}

function popRow(p: PopStatus): string[] {
  return [
    printable(p.pop_id), printable(p.region), p.role, String(p.epoch), formatDurationMs(p.heartbeat_age_ms), String(p.position),
    String(p.backlog), `${p.lag_seconds.toFixed(1)}s`, p.healthy ? 'yes' : 'NO', p.lease_remaining_ms > 0 ? formatDurationMs(p.lease_remaining_ms) : '-',
    formatDirective(p.directive),
  ];
}

/** The whole status as text (ends with a newline). */
export function renderStatusTable(s: ControlStatus): string {
  const c = s.control_plane;
  const out: string[] = [
    `control plane ${printable(c.instance_id)} (${c.leader ? 'deciding' : 'not the leader'}; store ${c.store}); lease ${c.lease_ttl_ms} ms + margin ${c.safety_margin_ms} ms; ` +
      `failover after ${c.failover_after_missed_heartbeats} missed heartbeats; max_lag_on_failover ${c.max_lag_on_failover}`,
    '',
  ];
  if (s.pairs.length === 0) out.push('no POP has sent a heartbeat yet', '');
  for (const p of s.pairs) {
    out.push(`pair ${printable(p.pair_id)}: epoch ${p.epoch}, primary ${printable(p.primary_id ?? 'none')}${p.promote ? `, promoting ${printable(p.promote.pop_id)} to epoch ${p.promote.epoch}` : ''}`);
    if (p.assessment) out.push(`  now:  [${p.assessment.kind}] ${printable(p.assessment.text)}`);
    if (p.last_decision) out.push(`  last: ${new Date(p.last_decision.at_ms).toISOString()} [${p.last_decision.kind}] ${printable(p.last_decision.text)}`);
  }
  if (s.pops.length > 0) {
    if (s.pairs.length > 0) out.push('');
    const header = ['POP', 'REGION', 'ROLE', 'EPOCH', 'LAST HB', 'POSITION', 'BACKLOG', 'LAG', 'HEALTHY', 'LEASE', 'DIRECTIVE'];
    out.push(...alignColumns([header, ...s.pops.map(popRow)]));
    const audited = s.pops.filter((p) => p.audit);
    if (audited.length > 0) {
      // Audit chain heads as each POP last reported them (issue 13 §3): a fall in RECORDS or a
      // DIGEST that changes without new records means a trail was cut or rewritten on that host.
      out.push('', ...alignColumns([['POP', 'AUDIT VAULTS', 'AUDIT RECORDS', 'AUDIT DIGEST'],
        ...audited.map((p) => [printable(p.pop_id), String(p.audit!.vaults), String(p.audit!.records), printable(p.audit!.digest)])]));
    }
  }
  return `${out.join('\n')}\n`;
}
