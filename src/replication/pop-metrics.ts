/**
 * Prometheus metrics of a commercial POP (issue 7 item 1; names carry their units). Gauges are
 * computed on scrape from the POP's state; counters are incremented as events happen and never go
 * backwards across role changes. See docs/metrics.md for meanings and alert rules.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the gauges read on each scrape. */
export interface PopMetricSources {
  role(): 'primary' | 'backup' | 'fenced';
  epoch(): number;
  backlog(): number;
  /** Age in seconds of the oldest unacknowledged revision. */
  lagSeconds(): number;
  /** Revisions still queued by a full resync, or 0. */
  resyncRemaining(): number;
  /** Seconds since the control plane last answered a heartbeat, or undefined without a control plane. */
  heartbeatAgeSeconds(): number | undefined;
  /** Seconds left on the control-plane lease (primary), or undefined. */
  leaseRemainingSeconds(): number | undefined;
  /** 1 while client writes are accepted, else 0. */
  acceptingWrites(): boolean;
}

/** The counters a POP increments. */
export interface PopCounters {
  /** Pushes by direction (`sent`, `received`) and result (`ok` or a failure kind). */
  pushes: Counter<'direction' | 'result'>;
  /** Revisions acknowledged by the backup (sent) or applied (received). */
  revisions: Counter<'direction'>;
  /** Retries scheduled after a failed push. */
  retries: Counter;
  /** Operator alerts: retries exhausted, fenced, backup ahead, control plane unreachable. */
  alerts: Counter<'reason'>;
}

/** Registers every POP metric on `registry`; returns the counters to increment. */
export function registerPopMetrics(registry: Registry, src: PopMetricSources): PopCounters {
  const registers = [registry];
  new Gauge({ name: 'clavitor_pop_role', help: '1 for the role this POP has now (primary, backup, fenced)', labelNames: ['role'] as const, registers,
    collect() { for (const r of ['primary', 'backup', 'fenced'] as const) this.set({ role: r }, src.role() === r ? 1 : 0); } });
  new Gauge({ name: 'clavitor_pop_epoch', help: 'Current epoch of this POP', registers, collect() { this.set(src.epoch()); } });
  new Gauge({ name: 'clavitor_pop_accepting_writes', help: '1 while this POP accepts client writes', registers, collect() { this.set(src.acceptingWrites() ? 1 : 0); } });
  new Gauge({ name: 'clavitor_replication_backlog_revisions', help: 'Revisions committed here but not yet acknowledged by the backup (lag in revisions)', registers, collect() { this.set(src.backlog()); } });
  new Gauge({ name: 'clavitor_replication_lag_seconds', help: 'Age in seconds of the oldest revision not yet acknowledged by the backup (0 when caught up)', registers, collect() { this.set(src.lagSeconds()); } });
  new Gauge({ name: 'clavitor_replication_resync_remaining_revisions', help: 'Revisions a full resync still has to send (0 when none runs)', registers, collect() { this.set(src.resyncRemaining()); } });
  new Gauge({ name: 'clavitor_controlplane_heartbeat_age_seconds', help: 'Seconds since the control plane last answered a heartbeat (absent without a control plane)', registers,
    collect() { const v = src.heartbeatAgeSeconds(); if (v !== undefined) this.set(v); } });
  new Gauge({ name: 'clavitor_controlplane_lease_remaining_seconds', help: 'Seconds left on this primary\'s control-plane lease', registers,
    collect() { const v = src.leaseRemainingSeconds(); if (v !== undefined) this.set(v); } });
  return {
    pushes: new Counter({ name: 'clavitor_replication_pushes_total', help: 'Replication pushes by direction and result', labelNames: ['direction', 'result'] as const, registers }),
    revisions: new Counter({ name: 'clavitor_replication_revisions_total', help: 'Revisions acknowledged by the backup (sent) or applied here (received)', labelNames: ['direction'] as const, registers }),
    retries: new Counter({ name: 'clavitor_replication_retries_total', help: 'Retries scheduled after a failed push', registers }),
    alerts: new Counter({ name: 'clavitor_replication_alerts_total', help: 'Operator alerts raised, by reason', labelNames: ['reason'] as const, registers }),
  };
}
