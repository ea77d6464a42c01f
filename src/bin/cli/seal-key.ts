/**
 * The seal key of the sealed tier on the client side (DESIGN.md §2, issue 6 items 2 and 6).
 * Sources, first found wins (docs/cli.md: flag, then environment, then the saved configuration):
 * `--seal-key-file FILE`, `CLAVITOR_SEAL_KEY_FILE`, `CLAVITOR_SEAL_PASSPHRASE`, then the
 * `seal_key_file` saved by `init` (issue 11 item 9: the saved file used to win over the
 * environment). A key file is preferred: environment variables leak into child processes and
 * crash reports. A key file must be mode 0600 and hold a passphrase
 * of at least 16 characters (one line; e.g. `head -c 32 /dev/urandom | base64`).
 */
import { cvError } from '../../lib/errors.js';
import { deriveSealKey, MIN_PASSPHRASE_CHARS, openValue, sealValue } from '../../vault/sealed.js';
import { parseToken } from '../../vault/tokens.js';
import { loadConfig, readPrivateFile } from './config.js';

/** Seals and opens values of one vault; the scrypt derivation runs at most once, on first use. */
export interface Sealer {
  /** True when a key source is configured (nothing is derived yet). */
  readonly available: boolean;
  /** Seals `plaintext` for field `label`; throws CLI_SEAL_KEY without a usable key. */
  seal(label: string, plaintext: string): string;
  /** Opens a sealed value of field `label`; throws CLI_SEAL_KEY or CLI_SEALED_OPEN. */
  open(label: string, sealed: string): string;
}

function passphrase(keyFile: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const file = keyFile ?? env.CLAVITOR_SEAL_KEY_FILE ?? (env.CLAVITOR_SEAL_PASSPHRASE === undefined ? loadConfig(env).seal_key_file : undefined);
  let text: string | undefined;
  if (file) {
    try {
      text = readPrivateFile(file, 'seal key file');
    } catch (e) {
      throw cvError('CLI_SEAL_KEY', (e as Error).message);
    }
  } else {
    text = env.CLAVITOR_SEAL_PASSPHRASE;
  }
  if (text === undefined) return undefined;
  const p = text.replace(/\r?\n$/, '');
  if (p.length < MIN_PASSPHRASE_CHARS) throw cvError('CLI_SEAL_KEY', `the seal passphrase must have at least ${MIN_PASSPHRASE_CHARS} characters`);
  return p;
}

/** A sealer for the vault of `token`. `keyFile` is the `--seal-key-file` flag. */
export function createSealer(token: string, keyFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Sealer {
  const vaultId = parseToken(token)?.vaultId;
  const pass = passphrase(keyFile, env);
  let master: Buffer | undefined;
  const key = (): Buffer => {
    if (pass === undefined) throw cvError('CLI_SEAL_KEY');
    if (!vaultId) throw cvError('CLI_BAD_INPUT', 'the token is not a vault token (cvt1.…)');
    master ??= deriveSealKey(pass, vaultId);
    return master;
  };
  return {
    available: pass !== undefined,
    seal: (label, plaintext) => sealValue(key(), vaultId!, label, plaintext),
    open(label, sealed) {
      const k = key();
      try {
        return openValue(k, vaultId!, label, sealed);
      } catch {
        throw cvError('CLI_SEALED_OPEN', `field "${label}": ${cvError('CLI_SEALED_OPEN').message}`);
      }
    },
  };
}
