/**
 * Typed access to the control plane's records over a {@link VersionedKv}: key names, JSON
 * encoding, and a zod check of every record read (a corrupt record fails loudly instead of being
 * decided on).
 */
import type { z } from 'zod';
import { Assessment, PairState, PopRecord } from './records.js';
import type { VersionedKv } from './kv.js';

/** A record and the version it was read at (pass it back to `commit`). */
export interface Stored<T> {
  readonly key: string;
  readonly value: T;
  readonly version: string;
}

/** Key of a POP's record. */
export const popKey = (popId: string): string => `pops/${popId}`;
/** Key of a pair's state. */
export const pairKey = (pairId: string): string => `pairs/${pairId}`;
/** Key of a pair's current assessment. */
export const assessmentKey = (pairId: string): string => `assessments/${pairId}`;

/** The repository; see `createRepo`. */
export type StateRepo = ReturnType<typeof createRepo>;

/** Typed records over `kv`. */
export function createRepo(kv: VersionedKv) {
  function decode<S extends z.ZodType>(schema: S, key: string, value: string): z.infer<S> {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      throw new Error(`stored record ${key} is not JSON`);
    }
    const r = schema.safeParse(json);
    if (!r.success) throw new Error(`stored record ${key} is malformed: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data;
  }
  async function one<S extends z.ZodType>(schema: S, key: string): Promise<Stored<z.infer<S>> | null> {
    const v = await kv.get(key);
    return v ? { key, value: decode(schema, key, v.value), version: v.version } : null;
  }
  async function all<S extends z.ZodType>(schema: S, prefix: string): Promise<Stored<z.infer<S>>[]> {
    return (await kv.list(prefix)).map((v) => ({ key: v.key, value: decode(schema, v.key, v.value), version: v.version }));
  }
  return {
    /** Storage engine, for the status page. */
    kind: kv.kind,
    /** A POP's record, or null. */
    pop: (popId: string) => one(PopRecord, popKey(popId)),
    /** A pair's state, or null. */
    pair: (pairId: string) => one(PairState, pairKey(pairId)),
    /** Every POP record. */
    pops: () => all(PopRecord, 'pops/'),
    /** Every pair. */
    pairs: () => all(PairState, 'pairs/'),
    /** Every assessment, by pair id. */
    async assessments(): Promise<Map<string, Assessment>> {
      const list = await all(Assessment, 'assessments/');
      return new Map(list.map((a) => [a.key.slice('assessments/'.length), a.value]));
    },
    /** Atomic compare-and-swap; see {@link VersionedKv.commit}. Values are JSON-encoded here. */
    commit: (expect: readonly { key: string; version: string }[], puts: readonly { key: string; value: unknown }[]) =>
      kv.commit(expect, puts.map((p) => ({ key: p.key, value: JSON.stringify(p.value) }))),
    /** Writes a pair's assessment (advisory, unconditional). */
    putAssessment: (pairId: string, a: Assessment) => kv.put(assessmentKey(pairId), JSON.stringify(a)),
    /** Closes the underlying store. */
    close: () => kv.close(),
  };
}
