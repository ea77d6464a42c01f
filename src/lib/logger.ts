/**
 * The process logger (pino, JSON to stderr). Secrets are redacted by path, and code never passes
 * token or field values to a log call in the first place (issue 4 "secrets hygiene").
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Log output formats: one JSON object per line (default), or human-readable for a terminal. */
export type LogFormat = 'json' | 'pretty';

/**
 * Creates the logger. `level` defaults to `info`; `base` fields (e.g. pop_id) go on every line;
 * `format` `pretty` renders lines for a terminal (pino-pretty) — redaction applies either way.
 */
export function createLogger(opts: { level?: string; base?: Record<string, unknown>; format?: LogFormat; mixin?: () => Record<string, unknown> } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid, ...(opts.base ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(opts.mixin ? { mixin: opts.mixin } : {}),
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token', 'owner_token', '*.owner_token', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    opts.format === 'pretty' ? pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY }) : pino.destination({ fd: 2, sync: true }),
  );
}
