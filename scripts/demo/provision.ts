/**
 * Provisioning for the demo, following the seed's "Example POP Provisioning": a working tree
 * `.demo/<pop>/{etc,data}`, `replication.yaml` texts from the test kit's builder (shaped like the
 * seed's examples), and running the built CLI (`keygen`, `check-config`) as child processes.
 */
import { execFile } from 'node:child_process';
import { popYaml } from '../../test/kit/yaml.js';

/** Milliseconds a one-shot CLI command (keygen, check-config) may run. */
export const CLI_TIMEOUT_MS = 15_000;

/** One POP's place in the working tree. */
export interface PopLayout {
  /** pop_id, e.g. `calgary-01`. */
  name: string;
  /** `.demo/<pop>` (absolute). */
  root: string;
  /** `.demo/<pop>/etc` (absolute). */
  etc: string;
  /** `.demo/<pop>/data` (absolute). */
  data: string;
  /** `.demo/<pop>/etc/replication.yaml` (absolute). */
  config: string;
  /** `.demo/<pop>/etc/replication.key` (absolute). */
  keyFile: string;
  /** `.demo/<pop>/etc/signing.key`: the POP's own Ed25519 signing key (absolute; issue 13 §1). */
  signingKeyFile: string;
  /** The public key keygen printed for `signingKeyFile`, pinned by the other POP. */
  publicKey: string;
  /** `.demo/<pop>/pop.log`: the POP's JSON log (absolute). */
  logFile: string;
  /** Loopback port the POP listens on. */
  port: number;
}

/** YAML of the primary POP: identity, `backup_pop` (where to push), the accepted token file, its signing key and the backup's public key. */
export function primaryYaml(self: PopLayout, o: { region: string; backup: PopLayout }): string {
  return popYaml({ popId: self.name, region: o.region, role: 'primary', peer: { id: o.backup.name, url: `http://127.0.0.1:${o.backup.port}` }, tokenFile: self.keyFile, signingKeyFile: self.signingKeyFile, peerPublicKey: o.backup.publicKey });
}

/**
 * YAML of the backup POP: identity, `primary_pop` (announced in X-Primary-Location and told
 * "I am up"), and the token file it accepts pushes with. No `backup_pop`: no cascade.
 */
export function backupYaml(self: PopLayout, o: { region: string; primary: PopLayout }): string {
  return popYaml({ popId: self.name, region: o.region, role: 'backup', peer: { id: o.primary.name, url: `http://127.0.0.1:${o.primary.port}` }, tokenFile: self.keyFile, signingKeyFile: self.signingKeyFile, peerPublicKey: o.primary.publicKey });
}

/** Output of a finished CLI command. */
export interface CliResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` (executable first) in `cwd` and resolves with its output when it exits 0.
 * Rejects with its exit status and stderr otherwise, or after `CLI_TIMEOUT_MS` milliseconds.
 */
export function runCli(argv: readonly string[], cwd: string): Promise<CliResult> {
  const [exe, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(exe!, args, { cwd, timeout: CLI_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const status = typeof err.code === 'number' ? `exit status ${err.code}` : err.killed ? 'killed (timeout)' : String(err.code ?? err.message);
      reject(new Error(`command failed (${status}): ${stderr.trim() || stdout.trim() || err.message}`));
    });
  });
}
