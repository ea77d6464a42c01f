/**
 * The storage the control plane needs: a few keys holding JSON, read with a version and written
 * with compare-and-swap. Two engines implement it: SQLite (`kv-sqlite.ts`, one instance) and etcd
 * (`kv-etcd.ts`, several instances). Every decision commits only if the records it was made from
 * are unchanged, so concurrent heartbeats and a second leader can delay a decision, never corrupt it.
 */

/** Version of a key that does not exist. */
export const ABSENT = '0';

/** A stored value with its version (an opaque string; {@link ABSENT} when the key does not exist). */
export interface Versioned {
  readonly key: string;
  readonly value: string;
  readonly version: string;
}

/** A versioned key/value store. Keys are relative (`pops/calgary-01`); each engine adds its own prefix. */
export interface VersionedKv {
  /** Which engine, for the status page. */
  readonly kind: 'sqlite' | 'etcd';
  /** The value and version of `key`, or null when absent. */
  get(key: string): Promise<Versioned | null>;
  /** Every key starting with `prefix`, in key order. */
  list(prefix: string): Promise<Versioned[]>;
  /**
   * Writes every `puts` entry atomically if every `expect` key still has the given version
   * ({@link ABSENT} for "still does not exist"). Returns false, writing nothing, otherwise.
   */
  commit(expect: readonly { key: string; version: string }[], puts: readonly { key: string; value: string }[]): Promise<boolean>;
  /** Writes `key` unconditionally (for advisory records such as assessments). */
  put(key: string, value: string): Promise<void>;
  /** Releases the engine. */
  close(): Promise<void>;
}
