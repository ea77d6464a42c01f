/**
 * Demo output: numbered steps, indented detail lines, and a redaction pass over every line so
 * that no token (owner, admin, replication) is ever printed in full — only a short prefix.
 */

/**
 * Token shapes the server hands out, each with the prefix that may be shown. The `{8,}` keeps an
 * already-masked `cvt1.v_…` from matching again.
 */
const TOKEN_PATTERNS: readonly { re: RegExp; shown: string }[] = [
  { re: /cvt1\.[A-Za-z0-9_.-]{8,}/g, shown: 'cvt1.v_' },
  { re: /clavitor-pop-v1-[A-Za-z0-9_-]{8,}/g, shown: 'clavitor-pop-v1-' },
  { re: /clavitor-admin-v1-[A-Za-z0-9_-]{8,}/g, shown: 'clavitor-admin-v1-' },
];

/** Secrets read at run time (exact strings), masked wherever they occur. */
const knownSecrets = new Set<string>();

/**
 * Masks a secret for display: the public prefix of its token format followed by `…`
 * (`cvt1.v_…`, `clavitor-pop-v1-…`); an unknown format shows only its first 4 characters.
 */
export function mask(secret: string): string {
  for (const { re, shown } of TOKEN_PATTERNS) {
    re.lastIndex = 0;
    if (re.test(secret)) return `${shown}…`;
  }
  return `${secret.slice(0, 4)}…`;
}

/** Registers a secret so that `redact` (and so every printed line) masks it. */
export function registerSecret(secret: string): void {
  if (secret.length >= 8) knownSecrets.add(secret);
}

/** Replaces every registered secret and every token-shaped string in `text` by its mask. */
export function redact(text: string): string {
  let out = text;
  for (const s of knownSecrets) out = out.split(s).join(mask(s));
  for (const { re, shown } of TOKEN_PATTERNS) out = out.replace(re, `${shown}…`);
  return out;
}

/** Prints one line (redacted) on stdout. */
export function line(text = ''): void {
  process.stdout.write(`${redact(text)}\n`);
}

/** Prints the header of step `n` (1-based) of `total`. */
export function step(n: number, total: number, title: string): void {
  line();
  line(`[${n}/${total}] ${title}`);
}

/** Prints detail lines under the current step, indented by `depth` levels (2 spaces each, plus 4). */
export function detail(text: string, depth = 0): void {
  const pad = ' '.repeat(4 + depth * 2);
  for (const l of text.split('\n')) line(`${pad}${l}`);
}

/** Prints a shell-like command line under the current step. */
export function command(argv: readonly string[]): void {
  detail(`$ ${argv.map(quoteArg).join(' ')}`);
}

function quoteArg(a: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
