/**
 * Address ranges (CIDR) for `trusted_proxies` (issue 13 §2): which connecting addresses may name
 * the client in `X-Forwarded-For`. Parsing is strict (a typo must not trust the wrong network) and
 * matching folds IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack listener
 * reports) onto IPv4.
 */
import { BlockList, isIP } from 'node:net';

/** One parsed range: `address/prefix`, prefix in bits (a bare address is /32 or /128). */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses `a.b.c.d/n`, `x:y::/n` or a bare address. Returns the range, or a sentence saying what is
 * wrong (for config errors, `file:line:col: key: <sentence>`).
 */
export function parseCidr(text: string): Cidr | string {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text);
  const address = m?.[1];
  const version = address === undefined ? 0 : isIP(address);
  if (!m || version === 0) return `"${text}" is not an IP address or CIDR range (e.g. "10.0.0.0/8", "192.0.2.7", "fd00::/8")`;
  const max = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return `"${text}": the prefix length must be 0..${max} for an IPv${version} range`;
  return { address: address!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Folds an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) onto its IPv4 form; other addresses unchanged. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}

/** Membership test over a list of ranges; `matches(address)` is false for an empty list. */
export interface AddressMatcher {
  readonly ranges: readonly Cidr[];
  matches(address: string | undefined): boolean;
}

/** Builds a matcher from parsed ranges (see `parseCidr`). */
export function addressMatcher(ranges: readonly Cidr[]): AddressMatcher {
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.address, r.prefix, r.family);
  return {
    ranges,
    matches(address) {
      if (!address || ranges.length === 0) return false;
      const a = plainAddress(address);
      const v = isIP(a);
      return v !== 0 && list.check(a, v === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * Parses a comma-separated list (the community `--trusted-proxies` flag and
 * `CLAVITOR_TRUSTED_PROXIES`). Throws RangeError naming the first bad item.
 */
export function parseCidrList(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const r = parseCidr(item);
    if (typeof r === 'string') throw new RangeError(r);
    out.push(r);
  }
  return out;
}
