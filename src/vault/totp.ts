/**
 * TOTP codes (issue 6 item 5, RFC 6238) with the `otpauth` library. A field of kind `totp` holds
 * either an `otpauth://totp/…` URI (algorithm, digits and period taken from it) or a bare base32
 * secret (SHA-1, 6 digits, 30 s: what authenticator apps assume). Used by the server for `agent`
 * and `owner` tier fields and by `clavitor-cli totp` for `sealed` ones, so both compute alike.
 */
import { Secret, TOTP, URI } from 'otpauth';
import { cvError } from '../lib/errors.js';

/** Field kind that marks a TOTP secret. */
export const TOTP_KIND = 'totp';

/** A current code: the digits and the whole seconds until the next code (1..period). */
export interface TotpCode {
  readonly code: string;
  readonly seconds_left: number;
}

const BASE32 = /^[A-Z2-7]+=*$/;

/** Parses a field value into a TOTP generator. Throws TOTP_INVALID (CV-4006) when it is neither form. */
export function parseTotp(value: string): TOTP {
  const v = value.trim();
  try {
    if (/^otpauth:\/\//i.test(v)) {
      const otp = URI.parse(v);
      if (otp instanceof TOTP) return otp;
    } else {
      const b32 = v.replace(/[\s-]/g, '').toUpperCase();
      if (b32.length >= 16 && BASE32.test(b32)) return new TOTP({ secret: Secret.fromBase32(b32) });
    }
  } catch {
    // fall through to the registered error: the library's message might echo the secret
  }
  throw cvError('TOTP_INVALID');
}

/** True when `value` is a usable TOTP secret (URI or base32). */
export function isTotpSecret(value: string): boolean {
  try {
    parseTotp(value);
    return true;
  } catch {
    return false;
  }
}

/** The code for `value` at `nowMs` (milliseconds since the epoch). Throws TOTP_INVALID. */
export function totpCode(value: string, nowMs: number): TotpCode {
  const otp = parseTotp(value);
  const code = otp.generate({ timestamp: nowMs });
  const seconds_left = Math.ceil(TOTP.remaining({ period: otp.period, timestamp: nowMs }) / 1000);
  return { code, seconds_left };
}
