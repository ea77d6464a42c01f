/**
 * The process logger (pino, JSON to stderr). Secrets are redacted by path, and code never passes
 * token or field values to a log call in the first place (issue 4 "secrets hygiene").
 */
import { pino, type Logger } from 'pino';

/** Creates the logger. `level` defaults to `info`; `base` fields (e.g. pop_id) go on every line. */
export function createLogger(opts: { level?: string; base?: Record<string, unknown> } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid, ...(opts.base ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token', 'owner_token', '*.owner_token', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
