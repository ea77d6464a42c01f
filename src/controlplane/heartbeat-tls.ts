/**
 * TLS material of the heartbeat client (issue 11 item 4, case F15): `control_plane.ca_file`
 * as the trusted CA bundle (system roots when absent) and the POP's own `auth.mtls_cert` /
 * `auth.mtls_key`, presented when the control plane asks for a client certificate. Loaded once
 * per configuration object, so a SIGHUP with new files gives a new object and new connections.
 */
import type { ReplicationConfig } from '../config/types.js';
import { loadClientTls, type ClientTls } from '../lib/client-tls.js';

const cache = new WeakMap<ReplicationConfig, { tls: ClientTls | undefined }>();

/**
 * The heartbeat's TLS material for `cfg`, or undefined when neither a control-plane CA nor a POP
 * certificate is configured. Never throws (it runs inside the heartbeat timer): the files were
 * checked when `cfg` was loaded, and if one has vanished since, the beat goes out without that
 * material and fails with the TLS reason the control plane's certificate gives.
 */
export function controlPlaneTls(cfg: ReplicationConfig): ClientTls | undefined {
  const hit = cache.get(cfg);
  if (hit) return hit.tls;
  let tls: ClientTls | undefined;
  try {
    tls = loadClientTls({
      caFile: cfg.controlPlane?.caFile,
      certFile: cfg.auth.mtlsCert,
      keyFile: cfg.auth.mtlsKey,
      labels: { ca: 'control_plane.ca_file', cert: 'auth.mtls_cert', key: 'auth.mtls_key' },
    });
  } catch {
    tls = undefined;
  }
  cache.set(cfg, { tls });
  return tls;
}
