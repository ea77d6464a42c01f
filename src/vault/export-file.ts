/**
 * The encrypted export file of `clavitor-cli export` (issue 15 item 3), read back by
 * `clavitor-cli import --from clavitor` and by the server's `POST /api/import/parse` (the web
 * vault's import page): shared here, in vault/, so bin/ and http/ both import it. A JSON document whose
 * header is in clear and whose payload is AES-256-GCM ciphertext under a key derived from the
 * passphrase with scrypt (RFC 7914). The whole header is the AAD, so changing the KDF parameters
 * or the version makes decryption fail instead of silently weakening it. `node:crypto` only.
 *
 * ```json
 * { "format": "clavitor-export", "version": 1,
 *   "kdf": { "name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<base64, 16 bytes>" },
 *   "cipher": "aes-256-gcm", "iv": "<base64, 12 bytes>",
 *   "ciphertext": "<base64>", "tag": "<base64, 16 bytes>" }
 * ```
 *
 * The payload is `ExportPayload` as JSON. Sealed values stay sealed: they are exported as the
 * client ciphertext (`cs1.…`) the server holds, openable only with the seal passphrase of the
 * vault they were sealed for.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt, scryptSync } from 'node:crypto';
import { z } from 'zod';
import { cvError } from '../lib/errors.js';
import { ENTRY_TYPES, MAX_TAGS, Tag, TIERS } from './revision.js';

/** The `format` marker of an export file. */
export const EXPORT_FORMAT = 'clavitor-export';
/** Current version of the file layout. */
export const EXPORT_VERSION = 1;
/** scrypt cost of new files: N = 2^17, r = 8, p = 1 (about 128 MiB and a few hundred ms). */
const KDF = { n: 131072, r: 8, p: 1 } as const;
/** Shortest export passphrase, in characters. */
export const MIN_EXPORT_PASSPHRASE_CHARS = 12;

/** One exported field. */
export const ExportField = z.strictObject({ label: z.string().min(1).max(256), kind: z.string().min(1).max(32), tier: z.enum(TIERS), value: z.string() });
/** One exported entry. `id` is the entry id in the source vault; `parent` refers to another exported `id`. */
export const ExportEntry = z.strictObject({
  id: z.string().min(1).max(64),
  type: z.enum(ENTRY_TYPES),
  parent: z.string().max(64).nullable(),
  title: z.string().min(1).max(1024),
  fields: z.array(ExportField).max(1000),
  /** The entry's tags (they decide tag scopes, issue 14 item 2); absent in files written before tags were exported. */
  tags: z.array(Tag).max(MAX_TAGS).optional(),
});
/** One exported entry. */
export type ExportEntry = z.infer<typeof ExportEntry>;
/** The decrypted payload. */
export const ExportPayload = z.strictObject({
  exported_at: z.string(),
  vault_id: z.string(),
  entries: z.array(ExportEntry),
});
/** The decrypted payload. */
export type ExportPayload = z.infer<typeof ExportPayload>;

const Header = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  kdf: z.strictObject({ name: z.literal('scrypt'), n: z.number().int().min(16384).max(1048576), r: z.number().int().min(1).max(32), p: z.number().int().min(1).max(16), salt: z.string() }),
  cipher: z.literal('aes-256-gcm'),
  iv: z.string(),
});
const FileShape = Header.extend({ ciphertext: z.string(), tag: z.string() });

const keyOf = (pass: string, k: z.infer<typeof Header>['kdf']): Buffer =>
  scryptSync(pass.normalize('NFC'), Buffer.from(k.salt, 'base64'), 32, { N: k.n, r: k.r, p: k.p, maxmem: 256 * k.n * k.r + 1024 * 1024 });

/** Encrypts `payload` under `passphrase`; returns the file text (JSON). */
export function sealExport(payload: ExportPayload, passphrase: string): string {
  const header = { format: EXPORT_FORMAT, version: EXPORT_VERSION, kdf: { name: 'scrypt' as const, ...KDF, salt: randomBytes(16).toString('base64') }, cipher: 'aes-256-gcm' as const, iv: randomBytes(12).toString('base64') };
  const cipher = createCipheriv('aes-256-gcm', keyOf(passphrase, header.kdf), Buffer.from(header.iv, 'base64'));
  cipher.setAAD(Buffer.from(JSON.stringify(header), 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return `${JSON.stringify({ ...header, ciphertext: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') }, null, 1)}\n`;
}

/** The checked header and sealed parts of an export file's text; IMPORT_INVALID when it is not one. */
function parseExportFile(text: string): z.infer<typeof FileShape> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw cvError('IMPORT_INVALID', 'not a Clavitor export: the file is not JSON');
  }
  const f = FileShape.safeParse(json);
  if (!f.success) throw cvError('IMPORT_INVALID', `not a Clavitor export of version ${EXPORT_VERSION}: ${f.error.issues[0]?.path.join('.') || 'file'}: ${f.error.issues[0]?.message ?? 'invalid'}`);
  return f.data;
}

/** Decrypts the payload of `file` with `key` and checks it. */
function decryptPayload(file: z.infer<typeof FileShape>, key: Buffer): ExportPayload {
  const { ciphertext, tag, ...header } = file;
  let plain: string;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
    d.setAAD(Buffer.from(JSON.stringify(header), 'utf8'));
    d.setAuthTag(Buffer.from(tag, 'base64'));
    plain = Buffer.concat([d.update(Buffer.from(ciphertext, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw cvError('IMPORT_DECRYPT');
  }
  const p = ExportPayload.safeParse(JSON.parse(plain));
  if (!p.success) throw cvError('IMPORT_INVALID', `export payload: ${p.error.issues[0]?.path.join('.')}: ${p.error.issues[0]?.message}`);
  return p.data;
}

/**
 * Decrypts an export file's text with `passphrase`. Throws IMPORT_INVALID (CV-6040) when the
 * file is not a Clavitor export of a known version, IMPORT_DECRYPT (CV-6041) when the passphrase is
 * wrong or the file was altered.
 */
export function openExport(text: string, passphrase: string): ExportPayload {
  const file = parseExportFile(text);
  return decryptPayload(file, keyOf(passphrase, file.kdf));
}

/**
 * As `openExport`, with the scrypt key derivation (hundreds of milliseconds at the file's cost)
 * off the event loop (node:crypto `scrypt`): what a server uses (POST /api/import/parse), so other
 * requests and replication are not held up meanwhile. Same errors.
 */
export async function openExportAsync(text: string, passphrase: string): Promise<ExportPayload> {
  const file = parseExportFile(text);
  const k = file.kdf;
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), Buffer.from(k.salt, 'base64'), 32, { N: k.n, r: k.r, p: k.p, maxmem: 256 * k.n * k.r + 1024 * 1024 }, (err, dk) => (err ? reject(cvError('IMPORT_DECRYPT')) : resolve(dk)));
  });
  return decryptPayload(file, key);
}
