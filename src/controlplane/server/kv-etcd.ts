/**
 * {@link VersionedKv} in etcd (npm `etcd3`), under the key prefix {@link ETCD_PREFIX}. A key's
 * version is its etcd `mod_revision`; `commit` is one etcd transaction comparing every expected
 * `mod_revision` (0 for an absent key) and putting every value, so it is atomic across instances.
 * Unary calls carry a deadline, so an unreachable etcd fails a heartbeat (503 CV-6102) instead of
 * hanging it past the POP's request timeout.
 */
import { Etcd3, type Namespace } from 'etcd3';
import { ABSENT, type Versioned, type VersionedKv } from './kv.js';

/** Every key the control plane writes in etcd starts with this. */
export const ETCD_PREFIX = '/clavitor/control/';
/** Deadline of one etcd request, in milliseconds. */
export const ETCD_CALL_TIMEOUT_MS = 2000;

/** Parses `--etcd http://h1:2379,http://h2:2379` into a host list. Throws RangeError when empty or not http(s). */
export function parseEtcdEndpoints(spec: string): string[] {
  const hosts = spec.split(',').map((h) => h.trim()).filter((h) => h !== '');
  if (hosts.length === 0) throw new RangeError('--etcd needs at least one endpoint, e.g. http://127.0.0.1:2379');
  for (const h of hosts) {
    if (!/^https?:\/\/[^/\s]+$/.test(h)) throw new RangeError(`--etcd endpoint "${h}" must look like http://HOST:PORT`);
  }
  return hosts;
}

/**
 * TLS towards etcd (PEM bytes): the CA that signed etcd's server certificate (default: the system
 * roots) and, for etcd's `--client-cert-auth`, this instance's client certificate and key. Used
 * only with `https://` endpoints.
 */
export interface EtcdTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/**
 * An etcd client for `hosts` with a deadline on every unary call (the deadline is a wall-clock
 * Date because gRPC takes one; it spans 2 s). `https://` endpoints use TLS with `tls` (system
 * roots when no CA is given); `http://` ones are plain.
 */
export function connectEtcd(hosts: string[], tls?: EtcdTls): Etcd3 {
  const credentials = tls && (tls.ca || tls.cert)
    ? { rootCertificate: tls.ca as Buffer, ...(tls.key ? { privateKey: tls.key } : {}), ...(tls.cert ? { certChain: tls.cert } : {}) }
    : undefined;
  return new Etcd3({
    hosts,
    ...(credentials ? { credentials } : {}),
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
  });
}

/** The control plane's namespace in `client`. */
export function controlNamespace(client: Etcd3): Namespace {
  return client.namespace(ETCD_PREFIX);
}

/** A versioned store over `client`, under {@link ETCD_PREFIX}. Closing it does not close `client`. */
export function createEtcdKv(client: Etcd3): VersionedKv {
  const ns = controlNamespace(client);
  const toVersioned = (kv: { key: Buffer; value: Buffer; mod_revision: string }): Versioned => ({
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    version: String(kv.mod_revision),
  });
  return {
    kind: 'etcd',
    async get(key) {
      const res = await ns.get(key).exec();
      const kv = res.kvs[0];
      return kv ? { ...toVersioned(kv), key } : null; // a single get returns the prefixed key
    },
    async list(prefix) {
      const res = await ns.getAll().prefix(prefix).sort('Key', 'Ascend').exec();
      return res.kvs.map(toVersioned);
    },
    async commit(expect, puts) {
      const [first, ...rest] = expect;
      if (first === undefined) throw new Error('commit needs at least one expected version');
      let txn = ns.if(first.key, 'Mod', '==', first.version === ABSENT ? 0 : first.version);
      for (const e of rest) txn = txn.and(e.key, 'Mod', '==', e.version === ABSENT ? 0 : e.version);
      const res = await txn.then(...puts.map((p) => ns.put(p.key).value(p.value))).commit();
      return res.succeeded;
    },
    async put(key, value) {
      await ns.put(key).value(value).exec();
    },
    async close() {},
  };
}
