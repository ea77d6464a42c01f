/**
 * Prometheus metrics (DESIGN.md §3 `GET /metrics`, prom-client). One registry per process; units
 * are in metric names (`_seconds`, `_total`). Editions add their own metrics to `registry`.
 */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process's metrics; see `createMetrics`. */
export type Metrics = ReturnType<typeof createMetrics>;

/** Creates the registry with process metrics and the HTTP request-duration histogram. */
export function createMetrics() {
  const registry = new Registry();
  // Event-loop delay sampled every second, not every 10 ms (the default woke an idle process ~99
  // times a second; docs/performance.md "idle").
  collectDefaultMetrics({ register: registry, prefix: 'clavitor_', eventLoopMonitoringPrecision: 1000 });
  const httpDuration = new Histogram({
    name: 'clavitor_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    /** Hook for metrics computed on scrape; editions may replace it. */
    refresh: (): void => {},
  };
}
