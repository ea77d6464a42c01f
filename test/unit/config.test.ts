/**
 * replication.yaml loading, token files and keygen (DESIGN.md §4.1, §4.2; seed "Example POP
 * Provisioning"). Run: node --import tsx --test test/unit/config.test.ts
 *
 * Every invalid configuration is its own subtest, named after the rule it breaks, and pins the
 * error line's file, line number, key and code (and column where it matters).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { generate } from 'selfsigned';
import { Errors } from '../../src/lib/errors.js';
import { ConfigError } from '../../src/config/config-error.js';
import { generateToken, writeKeyFile } from '../../src/config/keygen.js';
import { writeSigningKeyFile } from '../../src/config/signing-key.js';
import { loadReplicationConfig } from '../../src/config/load.js';
import { readTokenFile, TokenFileError } from '../../src/config/token-file.js';
import { tokenWeakness } from '../../src/config/token-strength.js';
import { normalizePeerUrl } from '../../src/config/url.js';
import { issue, makeCa } from '../kit/pki.js';
import { repoPath, runUnprivileged } from '../kit/unprivileged.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: one temp dir holding real keygen output, TLS material and the YAML under test.

const dir = mkdtempSync(join(tmpdir(), 'clavitor-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const KEY = join(dir, 'replication.key');
const CP_KEY = join(dir, 'control-plane.key');
writeKeyFile(KEY);
writeKeyFile(CP_KEY);
const KEY_TOKEN = readFileSync(KEY, 'utf8').trim();

const [tlsA, tlsB] = await Promise.all([
  generate([{ name: 'commonName', value: 'calgary-01' }], { keySize: 2048, algorithm: 'sha256' }),
  generate([{ name: 'commonName', value: 'other' }], { keySize: 2048, algorithm: 'sha256' }),
]);
function writeMode(name: string, content: string, mode: number): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}
writeMode('tls.crt', tlsA.cert, 0o644);
writeMode('tls.key', tlsA.private, 0o600);
writeMode('ca.crt', tlsB.cert, 0o644);
// A real chain for the "every key set" case: auth.mtls_cert must verify against auth.mtls_ca (issue 11 item 5).
const chainCa = await makeCa('config-test-ca');
const chainPop = await issue(chainCa, 'calgary-01');
writeMode('chain-ca.crt', chainCa.cert, 0o644);
writeMode('chain-pop.crt', chainPop.cert, 0o644);
writeMode('chain-pop.key', chainPop.key, 0o600);
writeMode('other.key', tlsB.private, 0o600);
writeMode('open.key', tlsA.private, 0o644);
writeMode('garbage.crt', 'not a certificate\n', 0o644);
symlinkSync(KEY, join(dir, 'link-to-replication.key'));

/** Token files with chosen content and mode, for the token-file rules. */
const strong2 = `${generateToken()}\n${generateToken()}\n`;
writeMode('t-0644.key', `${generateToken()}\n`, 0o644);
writeMode('t-0640.key', `${generateToken()}\n`, 0o640);
writeMode('t-0604.key', `${generateToken()}\n`, 0o604);
writeMode('t-3lines.key', `${strong2}${generateToken()}\n`, 0o600);
writeMode('t-short.key', 'clavitor-pop-v1-a1b2c3d4e5f6\n', 0o600);
writeMode('t-repeat.key', `clavitor-pop-v1-${'A'.repeat(43)}\n`, 0o600);
writeMode('t-hexshort.key', `${randomBytes(16).toString('hex')}\n`, 0o600);
writeMode('t-blank.key', '\n\n  \n', 0o600);
writeMode('t-empty.key', '', 0o600);
writeMode('t-midblank.key', `${generateToken()}\n\n${generateToken()}\n`, 0o600);
writeMode('t-words.key', 'correct horse battery staple\n', 0o600);
mkdirSync(join(dir, 't-dir.key'));

let caseNo = 0;
/** Write YAML lines to a fresh file in the fixture dir; returns its absolute path. */
function yamlFile(lines: readonly string[]): string {
  const p = join(dir, `case-${++caseNo}.yaml`);
  writeFileSync(p, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  return p;
}

// Base documents. Line numbers in the cases below refer to these layouts.
const PRIMARY = [
  'pop_id: "calgary-01"', //                        1
  'region: "north-america"', //                     2
  'role: "primary"', //                             3
  'backup_pop:', //                                 4
  '  id: "zurich-01"', //                           5
  '  url: "https://zurich-01.clavitor.ai"', //      6
  '  auth_token_file: "replication.key"', //        7
  'auth:', //                                       8
  '  token_file: "replication.key"', //             9
];
const BACKUP = [
  'pop_id: "zurich-01"', //   1
  'region: "europe"', //      2
  'role: "backup"', //        3
  'auth:', //                 4
  '  token_file: "replication.key"', // 5
];
/** Replace line `n` (1-based) of `base`. */
const setLine = (base: readonly string[], n: number, text: string): string[] => base.map((l, i) => (i === n - 1 ? text : l));
/** Remove line `n` (1-based) of `base`. */
const dropLine = (base: readonly string[], n: number): string[] => base.filter((_, i) => i !== n - 1);

interface InvalidCase {
  /** The rule broken; also the subtest name. */
  readonly rule: string;
  /** YAML lines, or a path to load as is. */
  readonly yaml: readonly string[] | { readonly path: string };
  readonly line: number;
  readonly col?: number;
  readonly key: string;
  readonly code?: keyof typeof Errors;
  /** Substrings the reason must contain. */
  readonly says?: readonly string[];
}

const INVALID: readonly InvalidCase[] = [
  // --- file level
  { rule: 'missing file is CONFIG_MISSING and points at docs', yaml: { path: join(dir, 'does-not-exist.yaml') }, line: 1, col: 1, key: '(file)', code: 'CONFIG_MISSING', says: ['not found', 'commercial edition requires replication.yaml', 'docs/config.md'] },
  { rule: 'a directory is not a config file', yaml: { path: join(dir, 't-dir.key') }, line: 1, col: 1, key: '(file)', code: 'CONFIG_MISSING', says: ['directory'] },
  { rule: 'empty file is refused', yaml: [], line: 1, col: 1, key: '(file)', says: ['empty'] },
  { rule: 'comments-only file is refused', yaml: ['# nothing here', '# yet'], line: 1, col: 1, key: '(file)', says: ['empty'] },
  { rule: 'top level must be a mapping, not a list', yaml: ['- pop_id: calgary-01', '- role: primary'], line: 1, col: 1, key: '(file)', says: ['mapping', 'list'] },
  { rule: 'top level must be a mapping, not a scalar', yaml: ['just a string'], line: 1, col: 1, key: '(file)', says: ['mapping'] },
  { rule: 'YAML syntax error has a position', yaml: ['pop_id: "calgary-01"', 'region: [north-america', 'role: primary'], line: 3, col: 1, key: '(yaml)', says: ['YAML syntax error'] },
  { rule: 'duplicate keys are refused', yaml: [...BACKUP, '  token_file: "replication.key"'], line: 6, col: 3, key: 'auth.token_file', says: ['twice'] },
  { rule: 'multiple YAML documents are refused', yaml: [...BACKUP, '---', 'pop_id: x'], line: 6, key: '(yaml)', says: ['YAML syntax error'] },
  // --- pop_id, region, role
  { rule: 'pop_id is required', yaml: dropLine(BACKUP, 1), line: 1, col: 1, key: 'pop_id', says: ['required'] },
  { rule: 'pop_id must be lower case', yaml: setLine(BACKUP, 1, 'pop_id: "Zurich-01"'), line: 1, col: 9, key: 'pop_id', says: ['a-z, 0-9'] },
  { rule: 'pop_id must not contain underscores', yaml: setLine(BACKUP, 1, 'pop_id: zurich_01'), line: 1, col: 9, key: 'pop_id' },
  { rule: 'pop_id must not be empty', yaml: setLine(BACKUP, 1, 'pop_id: ""'), line: 1, key: 'pop_id' },
  { rule: 'pop_id is at most 63 characters', yaml: setLine(BACKUP, 1, `pop_id: ${'a'.repeat(64)}`), line: 1, key: 'pop_id' },
  { rule: 'pop_id must be a string', yaml: setLine(BACKUP, 1, 'pop_id: 5'), line: 1, key: 'pop_id', says: ['expected a string', 'number 5'] },
  { rule: 'region is required', yaml: dropLine(BACKUP, 2), line: 1, col: 1, key: 'region', says: ['required'] },
  { rule: 'region must not be empty', yaml: setLine(BACKUP, 2, 'region: "  "'), line: 2, key: 'region', says: ['empty'] },
  { rule: 'role is required', yaml: dropLine(BACKUP, 3), line: 1, key: 'role', says: ['required'] },
  { rule: 'role must be primary or backup', yaml: setLine(BACKUP, 3, 'role: "replica"'), line: 3, col: 7, key: 'role', says: ['"primary" or "backup"'] },
  { rule: 'role is case-sensitive', yaml: setLine(BACKUP, 3, 'role: Backup'), line: 3, key: 'role', says: ['lower case'] },
  { rule: 'role must not be a number', yaml: setLine(BACKUP, 3, 'role: 5'), line: 3, key: 'role', says: ['number 5'] },
  // --- backup_pop / primary_pop and roles
  { rule: 'primary requires backup_pop', yaml: PRIMARY.slice(0, 3).concat(PRIMARY.slice(7)), line: 3, key: 'backup_pop', says: ['required when role is "primary"'] },
  { rule: 'backup forbids backup_pop (no cascade)', yaml: [...setLine(PRIMARY, 3, 'role: "backup"')], line: 4, col: 1, key: 'backup_pop', says: ['no cascade'] },
  { rule: 'primary forbids primary_pop', yaml: [...PRIMARY, 'primary_pop:', '  id: "zurich-01"', '  url: "https://zurich-01.clavitor.ai"'], line: 10, col: 1, key: 'primary_pop', says: ['only allowed when role is "backup"'] },
  { rule: 'backup_pop must be a mapping', yaml: setLine(PRIMARY.slice(0, 4).concat(PRIMARY.slice(7)), 4, 'backup_pop: "zurich-01"'), line: 4, col: 13, key: 'backup_pop', says: ['mapping with keys id, url, auth_token_file'] },
  { rule: 'backup_pop must not be empty', yaml: PRIMARY.slice(0, 4).concat(PRIMARY.slice(7)), line: 4, key: 'backup_pop', says: ['mapping'] },
  { rule: 'backup_pop.id is required', yaml: dropLine(PRIMARY, 5), line: 4, col: 1, key: 'backup_pop.id', says: ['required'] },
  { rule: 'backup_pop.url is required', yaml: dropLine(PRIMARY, 6), line: 4, col: 1, key: 'backup_pop.url', says: ['required'] },
  { rule: 'backup_pop.auth_token_file is required', yaml: dropLine(PRIMARY, 7), line: 4, key: 'backup_pop.auth_token_file', says: ['required'] },
  { rule: 'backup_pop.id follows the pop id rule', yaml: setLine(PRIMARY, 5, '  id: "Zurich 01"'), line: 5, col: 7, key: 'backup_pop.id' },
  { rule: 'backup_pop.id must differ from pop_id', yaml: setLine(PRIMARY, 5, '  id: "calgary-01"'), line: 5, key: 'backup_pop.id', says: ['must differ from pop_id'] },
  { rule: 'url must be https for a non-loopback host', yaml: setLine(PRIMARY, 6, '  url: "http://zurich-01.clavitor.ai"'), line: 6, col: 8, key: 'backup_pop.url', says: ['https://', 'loopback'] },
  { rule: 'url scheme must be http(s)', yaml: setLine(PRIMARY, 6, '  url: "ftp://zurich-01.clavitor.ai"'), line: 6, key: 'backup_pop.url' },
  { rule: 'url without scheme is refused', yaml: setLine(PRIMARY, 6, '  url: "zurich-01.clavitor.ai"'), line: 6, key: 'backup_pop.url' },
  { rule: 'url must not have a path', yaml: setLine(PRIMARY, 6, '  url: "https://zurich-01.clavitor.ai/api"'), line: 6, key: 'backup_pop.url', says: ['no path'] },
  { rule: 'url must not have a query', yaml: setLine(PRIMARY, 6, '  url: "https://zurich-01.clavitor.ai/?x=1"'), line: 6, key: 'backup_pop.url' },
  { rule: 'url must not carry credentials', yaml: setLine(PRIMARY, 6, '  url: "https://user:pw@zurich-01.clavitor.ai"'), line: 6, key: 'backup_pop.url', says: ['user name or password'] },
  { rule: 'url must not use port 0', yaml: setLine(PRIMARY, 6, '  url: "https://zurich-01.clavitor.ai:0"'), line: 6, key: 'backup_pop.url', says: ['port 0'] },
  { rule: 'region must not contain control characters', yaml: setLine(BACKUP, 2, 'region: "eu\\x1b[31mrope"'), line: 2, key: 'region', says: ['control characters'] },
  { rule: 'region is at most 256 characters', yaml: setLine(BACKUP, 2, `region: ${'e'.repeat(257)}`), line: 2, key: 'region', says: ['256'] },
  { rule: 'url must be a string', yaml: setLine(PRIMARY, 6, '  url: 443'), line: 6, key: 'backup_pop.url' },
  { rule: 'primary_pop.id must differ from pop_id', yaml: [...BACKUP, 'primary_pop:', '  id: "zurich-01"', '  url: "https://calgary-01.clavitor.ai"'], line: 7, key: 'primary_pop.id', says: ['must differ'] },
  { rule: 'primary_pop.url follows the url rule', yaml: [...BACKUP, 'primary_pop:', '  id: "calgary-01"', '  url: "http://calgary-01.clavitor.ai"'], line: 8, key: 'primary_pop.url' },
  { rule: 'primary_pop.url is required', yaml: [...BACKUP, 'primary_pop:', '  id: "calgary-01"'], line: 6, key: 'primary_pop.url', says: ['required'] },
  // --- unknown keys
  { rule: 'unknown top-level key is refused, with a suggestion', yaml: [...BACKUP, 'regoin: "europe"'], line: 6, col: 1, key: 'regoin', says: ['unknown key', 'did you mean "region"'] },
  { rule: 'unknown key is reported before the missing key it explains', yaml: setLine(BACKUP, 2, 'regoin: "europe"'), line: 2, col: 1, key: 'regoin', says: ['did you mean "region"'] },
  { rule: 'unknown nested key is refused', yaml: setLine(PRIMARY, 6, '  uri: "https://zurich-01.clavitor.ai"'), line: 6, col: 3, key: 'backup_pop.uri', says: ['unknown key', 'did you mean "url"'] },
  { rule: 'inline token key is refused without echoing it', yaml: [...BACKUP, `  token: "${KEY_TOKEN}"`], line: 6, col: 3, key: 'auth.token', says: ['never written in this file'] },
  { rule: 'unknown key in replication block', yaml: [...BACKUP, 'replication:', '  interval: 5'], line: 7, key: 'replication.interval' },
  // --- auth
  { rule: 'auth is required', yaml: BACKUP.slice(0, 3), line: 1, key: 'auth', says: ['required'] },
  { rule: 'an mTLS backup must name its primary_pop (issue 13 §1)', yaml: [...BACKUP, '  mtls_ca: "ca.crt"'], line: 3, col: 7, key: 'primary_pop', says: ['required when role is "backup" and auth.mtls_ca is set'] },
  { rule: 'auth.peer_public_key must be a printed public key', yaml: [...BACKUP, '  peer_public_key: "ssh-ed25519 AAAA"'], line: 6, col: 20, key: 'auth.peer_public_key', says: ['clavitor-ed25519-v1-'] },
  { rule: 'auth.token_file is required', yaml: [...BACKUP.slice(0, 4), '  mtls_ca: "ca.crt"'], line: 4, col: 1, key: 'auth.token_file', says: ['required'] },
  { rule: 'auth.token_file must be a string', yaml: setLine(BACKUP, 5, '  token_file: 12345'), line: 5, col: 15, key: 'auth.token_file' },
  { rule: 'auth.token_file must exist', yaml: setLine(BACKUP, 5, '  token_file: "nope.key"'), line: 5, col: 3, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['nope.key', 'does not exist'] },
  { rule: 'token file must be a regular file', yaml: setLine(BACKUP, 5, '  token_file: "t-dir.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['directory'] },
  { rule: 'world-readable token file is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-0644.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['0644', 'chmod 600'] },
  { rule: 'group-readable token file is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-0640.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['0640'] },
  { rule: 'other-readable token file is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-0604.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['0604'] },
  { rule: 'token file with three lines is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-3lines.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['3 lines', 'at most 2'] },
  { rule: 'short token is refused (the seed placeholder)', yaml: setLine(BACKUP, 5, '  token_file: "t-short.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['too short'] },
  { rule: 'repeated-character token is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-repeat.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['random'] },
  { rule: '128-bit hex token is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-hexshort.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['128 bits'] },
  { rule: 'blank-only token file is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-blank.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['empty'] },
  { rule: 'empty token file is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-empty.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['empty'] },
  { rule: 'blank line between tokens is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-midblank.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['line 2 is blank'] },
  { rule: 'passphrase token is refused', yaml: setLine(BACKUP, 5, '  token_file: "t-words.key"'), line: 5, key: 'auth.token_file', code: 'TOKEN_FILE_INVALID', says: ['whitespace'] },
  { rule: 'backup_pop.auth_token_file is checked like any token file', yaml: setLine(PRIMARY, 7, '  auth_token_file: "t-0644.key"'), line: 7, col: 3, key: 'backup_pop.auth_token_file', code: 'TOKEN_FILE_INVALID', says: ['0644'] },
  { rule: 'mtls_cert requires mtls_key', yaml: [...BACKUP, '  mtls_cert: "tls.crt"'], line: 4, col: 1, key: 'auth.mtls_key', says: ['required when auth.mtls_cert is set'] },
  { rule: 'mtls_key requires mtls_cert', yaml: [...BACKUP, '  mtls_key: "tls.key"'], line: 4, key: 'auth.mtls_cert', says: ['required when auth.mtls_key is set'] },
  { rule: 'mtls_key must not be the token file', yaml: [...BACKUP, '  mtls_cert: "tls.crt"', '  mtls_key: "replication.key"'], line: 7, col: 3, key: 'auth.mtls_key', says: ['same file as auth.token_file'] },
  { rule: 'mtls_key must not be the token file through a symlink', yaml: [...BACKUP, '  mtls_cert: "tls.crt"', '  mtls_key: "link-to-replication.key"'], line: 7, key: 'auth.mtls_key', says: ['same file'] },
  { rule: 'mtls_key must not be the backup token file', yaml: [...setLine(PRIMARY, 7, '  auth_token_file: "control-plane.key"'), '  mtls_cert: "tls.crt"', `  mtls_key: "${CP_KEY}"`], line: 11, key: 'auth.mtls_key', says: ['backup_pop.auth_token_file'] },
  { rule: 'mtls_key must be mode 0600 or stricter', yaml: [...BACKUP, '  mtls_cert: "tls.crt"', '  mtls_key: "open.key"'], line: 7, key: 'auth.mtls_key', says: ['0644'] },
  { rule: 'mtls_key must match mtls_cert', yaml: [...BACKUP, '  mtls_cert: "tls.crt"', '  mtls_key: "other.key"'], line: 7, key: 'auth.mtls_key', says: ['does not match'] },
  { rule: 'mtls_cert must exist', yaml: [...BACKUP, '  mtls_cert: "missing.crt"', '  mtls_key: "tls.key"'], line: 6, key: 'auth.mtls_cert', says: ['does not exist'] },
  { rule: 'mtls_cert must hold a certificate', yaml: [...BACKUP, '  mtls_cert: "garbage.crt"', '  mtls_key: "tls.key"'], line: 6, key: 'auth.mtls_cert', says: ['certificate'] },
  { rule: 'mtls_ca must exist', yaml: [...PRIMARY, '  mtls_ca: "missing-ca.crt"'], line: 10, key: 'auth.mtls_ca', says: ['does not exist'] },
  { rule: 'mtls_cert must chain to mtls_ca', yaml: [...PRIMARY, '  mtls_cert: "tls.crt"', '  mtls_key: "tls.key"', '  mtls_ca: "ca.crt"'], line: 10, col: 3, key: 'auth.mtls_cert', says: ['does not lead to a certificate in auth.mtls_ca'] },
  { rule: 'control_plane.ca_file must exist', yaml: [...BACKUP, 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "control-plane.key"', '  ca_file: "missing-ca.crt"'], line: 9, col: 3, key: 'control_plane.ca_file', says: ['does not exist'] },
  { rule: 'control_plane.ca_file must hold a certificate', yaml: [...BACKUP, 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "control-plane.key"', '  ca_file: "garbage.crt"'], line: 9, key: 'control_plane.ca_file', says: ['certificate'] },
  // --- replication tuning
  { rule: 'batch_size must be a number', yaml: [...BACKUP, 'replication:', '  batch_size: "abc"'], line: 7, col: 15, key: 'replication.batch_size', says: ['whole number from 1 to 10000', 'string'] },
  { rule: 'batch_size must not be quoted', yaml: [...BACKUP, 'replication:', '  batch_size: "100"'], line: 7, key: 'replication.batch_size', says: ['without quotes'] },
  { rule: 'batch_size must be at least 1', yaml: [...BACKUP, 'replication:', '  batch_size: 0'], line: 7, key: 'replication.batch_size', says: ['1 to 10000', 'got the number 0'] },
  { rule: 'batch_size must be at most 10000', yaml: [...BACKUP, 'replication:', '  batch_size: 10001'], line: 7, key: 'replication.batch_size' },
  { rule: 'batch_size must be an integer', yaml: [...BACKUP, 'replication:', '  batch_size: 1.5'], line: 7, key: 'replication.batch_size' },
  { rule: 'max_retries must be at least 0', yaml: [...BACKUP, 'replication:', '  max_retries: -1'], line: 7, key: 'replication.max_retries', says: ['0 to 100'] },
  { rule: 'max_retries must be at most 100', yaml: [...BACKUP, 'replication:', '  batch_size: 10', '  max_retries: 101'], line: 8, key: 'replication.max_retries' },
  { rule: 'replication must be a mapping', yaml: [...BACKUP, 'replication: [100, 5]'], line: 6, key: 'replication', says: ['mapping', 'list'] },
  // --- control plane
  { rule: 'control_plane.url is required', yaml: [...BACKUP, 'control_plane:', '  token_file: "control-plane.key"'], line: 6, col: 1, key: 'control_plane.url', says: ['required'] },
  { rule: 'control_plane.token_file is required', yaml: [...BACKUP, 'control_plane:', '  url: "https://control.clavitor.ai"'], line: 6, key: 'control_plane.token_file', says: ['required'] },
  { rule: 'control_plane.url must be https', yaml: [...BACKUP, 'control_plane:', '  url: "http://control.clavitor.ai"', '  token_file: "control-plane.key"'], line: 7, key: 'control_plane.url' },
  { rule: 'heartbeat_interval must be at least 1 second', yaml: [...BACKUP, 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "control-plane.key"', '  heartbeat_interval: 0'], line: 9, key: 'control_plane.heartbeat_interval', says: ['1 to 3600', 'seconds'] },
  { rule: 'heartbeat_interval must be at most 3600 seconds', yaml: [...BACKUP, 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "control-plane.key"', '  heartbeat_interval: 3601'], line: 9, key: 'control_plane.heartbeat_interval' },
  { rule: 'heartbeat_interval must be a number of seconds, not a duration string', yaml: [...BACKUP, 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "control-plane.key"', '  heartbeat_interval: "60s"'], line: 9, key: 'control_plane.heartbeat_interval' },
  { rule: 'control_plane.token_file is checked like any token file', yaml: [...BACKUP, 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "t-0640.key"'], line: 8, col: 3, key: 'control_plane.token_file', code: 'TOKEN_FILE_INVALID' },
];

/** Load `c` and return the ConfigError it must throw. */
function loadError(file: string): ConfigError {
  try {
    loadReplicationConfig(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${file} loaded but should have been refused`);
}

test('invalid configurations', async (t) => {
  assert.ok(INVALID.length >= 30, 'at least 30 invalid configurations');
  for (const c of INVALID) {
    await t.test(c.rule, () => {
      const file = 'path' in c.yaml ? c.yaml.path : yamlFile(c.yaml as readonly string[]);
      const err = loadError(file);
      assert.equal(err.file, file);
      assert.equal(err.lineNumber, c.line, err.line);
      if (c.col !== undefined) assert.equal(err.column, c.col, err.line);
      assert.equal(err.key, c.key, err.line);
      assert.equal(err.code, Errors[c.code ?? 'CONFIG_INVALID'].code, err.line);
      assert.equal(err.line, `${file}:${c.line}:${err.column}: ${c.key}: ${err.reason}`);
      assert.equal(err.message, err.line);
      assert.ok(!err.line.includes('\n'), 'exactly one line');
      assert.ok(!err.line.includes(KEY_TOKEN), 'never prints a token');
      for (const s of c.says ?? []) assert.ok(err.reason.includes(s), `${JSON.stringify(s)} in: ${err.line}`);
    });
  }
});

test('an unreadable config file is CONFIG_MISSING (checked as an unprivileged user, also when the suite runs as root)', () => {
  // Root reads a file of mode 0000, so the load runs in a child that dropped to an ordinary user
  // (test/kit/unprivileged.ts: setpriv/runuser to $CLAVITOR_TEST_USER or nobody when root).
  const sub = mkdtempSync(join(tmpdir(), 'clavitor-config-unreadable-'));
  try {
    chmodSync(sub, 0o711); // the user may reach the file, the file's own mode decides
    const file = join(sub, 'replication.yaml');
    writeFileSync(file, `${BACKUP.join('\n')}\n`);
    const probe = (): { uid: number; code: string; line: string; raw: string } => {
      const r = runUnprivileged(`
        const { loadReplicationConfig } = await import(${JSON.stringify(repoPath('src/config/load.ts'))});
        try { loadReplicationConfig(${JSON.stringify(file)}); console.log(JSON.stringify({ loaded: true })); }
        catch (e) { console.log(JSON.stringify({ code: e.code, line: e.line })); }`);
      assert.equal(r.status, 0, `child as ${r.user}: ${r.stderr}`);
      const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: string; line: string };
      return { uid: r.uid, code: last.code, line: last.line, raw: r.stdout };
    };
    chmodSync(file, 0o000);
    const err = probe();
    assert.ok(Number.isInteger(err.uid) && err.uid !== 0, `the check ran unprivileged (uid ${err.uid})`);
    assert.equal(err.code, Errors.CONFIG_MISSING.code, err.raw);
    assert.ok(err.line.startsWith(`${file}:1:1: (file): not readable`), err.line);
    // Control: the same file made readable is not refused as unreadable (so the mode decided).
    chmodSync(file, 0o644);
    const ok = probe();
    assert.ok(!/\(file\): not readable/.test(ok.line ?? ''), ok.raw);
  } finally {
    rmSync(sub, { recursive: true, force: true });
  }
});

test('weak and unprotected token content never appears in the error line', () => {
  for (const name of ['t-short.key', 't-repeat.key', 't-hexshort.key', 't-0644.key', 't-3lines.key']) {
    const secret = readFileSync(join(dir, name), 'utf8').split('\n')[0] ?? '';
    const err = loadError(yamlFile(setLine(BACKUP, 5, `  token_file: "${name}"`)));
    assert.ok(secret.length > 10 && !err.line.includes(secret), `${name}: ${err.line}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Valid configurations

test('seed example: Calgary primary parses with defaults', () => {
  const file = yamlFile([
    'pop_id: "calgary-01"',
    'region: "north-america"',
    'role: "primary"',
    'backup_pop:',
    '  id: "zurich-01"',
    '  url: "https://zurich-01.clavitor.ai"',
    `  auth_token_file: "${KEY}"`,
    'auth:',
    `  token_file: "${KEY}"`,
  ]);
  const cfg = loadReplicationConfig(file);
  assert.equal(cfg.path, file);
  assert.equal(cfg.popId, 'calgary-01');
  assert.equal(cfg.region, 'north-america');
  assert.equal(cfg.role, 'primary');
  assert.deepEqual(cfg.backupPop, { id: 'zurich-01', url: 'https://zurich-01.clavitor.ai', authTokenFile: KEY, sendToken: KEY_TOKEN });
  assert.equal(cfg.primaryPop, undefined);
  assert.deepEqual(cfg.auth, { tokenFile: KEY, acceptTokens: [KEY_TOKEN] });
  assert.deepEqual(cfg.replication, { batchSize: 100, maxRetries: 5 });
  assert.equal(cfg.controlPlane, undefined);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.auth) && Object.isFrozen(cfg.auth.acceptTokens) && Object.isFrozen(cfg.backupPop));
});

test('seed example: Zurich backup parses with defaults', () => {
  const file = yamlFile(['pop_id: "zurich-01"', 'region: "europe"', 'role: "backup"', 'auth:', `  token_file: "${KEY}"`]);
  const cfg = loadReplicationConfig(file);
  assert.equal(cfg.popId, 'zurich-01');
  assert.equal(cfg.region, 'europe');
  assert.equal(cfg.role, 'backup');
  assert.equal(cfg.backupPop, undefined);
  assert.equal(cfg.primaryPop, undefined);
  assert.deepEqual(cfg.auth.acceptTokens, [KEY_TOKEN]);
  assert.deepEqual(cfg.replication, { batchSize: 100, maxRetries: 5 });
});

test('seed failover example: backup with primary_pop, then promoted primary', () => {
  const before = loadReplicationConfig(yamlFile([...BACKUP, 'primary_pop:', '  id: "calgary-01"', '  url: "https://calgary-01.clavitor.ai"']));
  assert.deepEqual(before.primaryPop, { id: 'calgary-01', url: 'https://calgary-01.clavitor.ai' });
  const afterFailover = loadReplicationConfig(yamlFile([
    ...setLine(BACKUP, 3, 'role: "primary"'),
    'backup_pop:', '  id: "calgary-01"', '  url: "https://calgary-01.clavitor.ai"', '  auth_token_file: "replication.key"',
  ]));
  assert.equal(afterFailover.role, 'primary');
  assert.equal(afterFailover.backupPop?.id, 'calgary-01');
});

test('every key set: values, mTLS, control plane and overrides', () => {
  const file = yamlFile([
    '# full example', ...PRIMARY,
    '  mtls_cert: "chain-pop.crt"', '  mtls_key: "chain-pop.key"', '  mtls_ca: "chain-ca.crt"',
    'replication:', '  batch_size: 10000', '  max_retries: 0',
    'control_plane:', '  url: "https://control.clavitor.ai/"', '  token_file: "control-plane.key"', '  heartbeat_interval: 3600', '  ca_file: "ca.crt"',
  ]);
  const cfg = loadReplicationConfig(file);
  assert.equal(cfg.auth.mtlsCert, join(dir, 'chain-pop.crt'));
  assert.equal(cfg.auth.mtlsKey, join(dir, 'chain-pop.key'));
  assert.equal(cfg.auth.mtlsCa, join(dir, 'chain-ca.crt'));
  assert.deepEqual(cfg.replication, { batchSize: 10000, maxRetries: 0 });
  assert.deepEqual(cfg.controlPlane, {
    url: 'https://control.clavitor.ai',
    tokenFile: CP_KEY,
    token: readFileSync(CP_KEY, 'utf8').trim(),
    heartbeatIntervalSeconds: 3600,
    caFile: join(dir, 'ca.crt'),
  });
});

test('control_plane.heartbeat_interval defaults to 60 seconds; empty replication block means defaults', () => {
  const cfg = loadReplicationConfig(yamlFile([...BACKUP, 'replication:', 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "control-plane.key"']));
  assert.equal(cfg.controlPlane?.heartbeatIntervalSeconds, 60);
  assert.deepEqual(cfg.replication, { batchSize: 100, maxRetries: 5 });
});

test('relative paths resolve against the YAML file directory, not the working directory', () => {
  const sub = join(dir, 'etc', 'clavitor');
  mkdirSync(join(sub, 'keys'), { recursive: true });
  writeKeyFile(join(sub, 'keys', 'replication.key'));
  const file = join(sub, 'replication.yaml');
  writeFileSync(file, [...setLine(BACKUP, 5, '  token_file: "keys/replication.key"'), '  mtls_cert: "../../tls.crt"', '  mtls_key: "./../../tls.key"', ''].join('\n'));
  const cwd = process.cwd();
  process.chdir(tmpdir());
  try {
    const cfg = loadReplicationConfig(file);
    assert.equal(cfg.auth.tokenFile, join(sub, 'keys', 'replication.key'));
    assert.equal(cfg.auth.mtlsCert, join(dir, 'tls.crt'));
    assert.equal(cfg.auth.mtlsKey, join(dir, 'tls.key'));
  } finally {
    process.chdir(cwd);
  }
});

test('a relative YAML path is reported and stored as absolute', () => {
  const file = yamlFile(BACKUP);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.equal(loadReplicationConfig(file.slice(dir.length + 1)).path, file);
  } finally {
    process.chdir(cwd);
  }
});

test('two-line token file: both accepted, the first is sent', () => {
  const twoLine = writeMode('two-line.key', strong2, 0o600);
  const [first, second] = strong2.trim().split('\n');
  const cfg = loadReplicationConfig(yamlFile([...setLine(PRIMARY, 7, '  auth_token_file: "two-line.key"'), ...[]].map((l) => (l === '  token_file: "replication.key"' ? '  token_file: "two-line.key"' : l))));
  assert.equal(cfg.auth.tokenFile, twoLine);
  assert.deepEqual(cfg.auth.acceptTokens, [first, second]);
  assert.equal(cfg.backupPop?.sendToken, first);
});

test('token file with mode 0400 and CRLF line endings is accepted', () => {
  writeMode('ro-crlf.key', `${generateToken()}\r\n`, 0o400);
  const cfg = loadReplicationConfig(yamlFile(setLine(BACKUP, 5, '  token_file: "ro-crlf.key"')));
  assert.match(cfg.auth.acceptTokens[0] ?? '', /^clavitor-pop-v1-[A-Za-z0-9_-]{43}$/);
});

test('loopback peers may use http; URLs are normalised without trailing slash', () => {
  for (const [url, expected] of [
    ['http://127.0.0.1:8443/', 'http://127.0.0.1:8443'],
    ['http://127.8.9.10', 'http://127.8.9.10'],
    ['http://localhost:9000', 'http://localhost:9000'],
    ['http://[::1]:9000/', 'http://[::1]:9000'],
    ['HTTPS://Zurich-01.Clavitor.AI:443/', 'https://zurich-01.clavitor.ai'],
  ] as const) {
    const cfg = loadReplicationConfig(yamlFile(setLine(PRIMARY, 6, `  url: "${url}"`)));
    assert.equal(cfg.backupPop?.url, expected, url);
  }
});

test('comments and YAML flow style are fine', () => {
  const cfg = loadReplicationConfig(yamlFile([
    '# Zurich', 'pop_id: zurich-01   # this POP', 'region: europe', 'role: backup', 'auth: { token_file: replication.key }',
  ]));
  assert.equal(cfg.popId, 'zurich-01');
});

// ---------------------------------------------------------------------------------------------
// Token files and token strength, directly (the SIGHUP reload path reuses readTokenFile)

test('readTokenFile returns tokens and throws TokenFileError with a reason', () => {
  assert.deepEqual(readTokenFile(KEY), [KEY_TOKEN]);
  assert.throws(() => readTokenFile(join(dir, 't-0644.key')), (e) => e instanceof TokenFileError && /0644/.test(e.reason));
  assert.throws(() => readTokenFile(join(dir, 'nope.key')), (e) => e instanceof TokenFileError && /does not exist/.test(e.reason));
});

test('token strength: accepted shapes', () => {
  const raw = randomBytes(32);
  for (const tok of [generateToken(), raw.toString('hex'), raw.toString('base64'), raw.toString('base64url'), randomBytes(48).toString('base64')]) {
    assert.equal(tokenWeakness(tok), null, tok.length.toString());
  }
});

test('token strength: refused shapes', () => {
  const refused = [
    'clavitor-pop-v1-a1b2c3d4e5f6', // seed placeholder: too short
    `clavitor-pop-v1-${'A'.repeat(43)}`, // one character repeated
    `clavitor-pop-v1-${'abcd'.repeat(11)}`, // repeating pattern
    `clavitor-pop-v1-${randomBytes(30).toString('base64url')}`, // 240 bits
    `clavitor-pop-v1-${randomBytes(32).toString('base64')}+/`, // wrong alphabet
    `clavitor-pop-v2-${randomBytes(32).toString('base64url')}`, // unknown version
    'a'.repeat(64), // hex-looking, one character
    '0123456789abcdef'.repeat(4), // hex counting pattern
    Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'), // counting bytes
    randomBytes(31).toString('hex'), // 248 bits
    'correcthorsebatterystaplecorrecthorsebatterystaple', // letters only
    'hunter2',
    'pass word with spaces and more words to make it long enough',
  ];
  for (const tok of refused) assert.notEqual(tokenWeakness(tok), null, tok);
  for (const tok of refused) assert.ok(!(tokenWeakness(tok) ?? '').includes(tok), 'reason never echoes the token');
});

test('normalizePeerUrl rules', () => {
  assert.deepEqual(normalizePeerUrl('https://zurich-01.clavitor.ai/'), { ok: true, url: 'https://zurich-01.clavitor.ai' });
  for (const bad of ['http://10.0.0.1', 'http://localhost.evil.example', 'https://x#frag', 'https:zurich', '', 'https://x/a/'])
    assert.equal(normalizePeerUrl(bad).ok, false, bad);
});

// ---------------------------------------------------------------------------------------------
// keygen

test('generateToken: clavitor-pop-v1- + 43 base64url characters, 256 random bits, unique', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const t = generateToken();
    assert.match(t, /^clavitor-pop-v1-[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(t.slice(16), 'base64url').length, 32);
    assert.equal(tokenWeakness(t), null);
    seen.add(t);
  }
  assert.equal(seen.size, 200);
});

test('writeKeyFile: mode 0600 whatever the umask, one token and a newline', () => {
  const old = process.umask(0o000);
  try {
    const p = join(dir, 'keygen-umask.key');
    writeKeyFile(p);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    const text = readFileSync(p, 'utf8');
    assert.match(text, /^clavitor-pop-v1-[A-Za-z0-9_-]{43}\n$/);
    assert.deepEqual(readTokenFile(p), [text.trim()]);
  } finally {
    process.umask(old);
  }
});

test('writeKeyFile never overwrites an existing file (KEYGEN_EXISTS)', () => {
  const before = readFileSync(KEY, 'utf8');
  assert.throws(() => writeKeyFile(KEY), (e) => e instanceof ConfigError && e.code === Errors.KEYGEN_EXISTS.code && e.line.startsWith(`${KEY}:1:1: (file): already exists`));
  assert.equal(readFileSync(KEY, 'utf8'), before);
});

test('writeKeyFile does not follow a dangling symlink', () => {
  const target = join(dir, 'symlink-target.key');
  const link = join(dir, 'dangling.key');
  symlinkSync(target, link);
  assert.throws(() => writeKeyFile(link), (e) => e instanceof ConfigError && e.code === Errors.KEYGEN_EXISTS.code);
  assert.equal(existsSync(target), false);
  assert.ok(lstatSync(link).isSymbolicLink());
});

test('writeKeyFile creates no directories', () => {
  const p = join(dir, 'no-such-dir', 'x.key');
  assert.throws(() => writeKeyFile(p), (e) => e instanceof ConfigError && e.code === Errors.CONFIG_INVALID.code && /directory does not exist/.test(e.reason));
  assert.equal(existsSync(join(dir, 'no-such-dir')), false);
});

// ---------------------------------------------------------------------------------------------
// The same table through the real binary: `clavitor-commercial check-config` and `serve` exit 78
// with exactly the one error line on stderr and nothing on stdout (DESIGN.md §4.1).

const COMMERCIAL_BIN = join(import.meta.dirname, '../../dist/src/bin/clavitor-commercial.js');

function runBin(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [COMMERCIAL_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('every invalid configuration makes the binary exit 78 with the one-line error', async (t) => {
  const files = INVALID.map((c) => ('path' in c.yaml ? c.yaml.path : yamlFile(c.yaml as readonly string[])));
  const expected = files.map((f) => loadError(f).line);
  const results: { code: number | null; stdout: string; stderr: string }[] = new Array(files.length);
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < files.length) {
      const i = next++;
      const cmd = i % 4 === 0 ? ['serve', '--data', join(dir, `never-created-${i}`), '--listen', '127.0.0.1:1', '--replication-config', files[i]!] : ['check-config', '--replication-config', files[i]!];
      results[i] = await runBin(cmd);
    }
  }));
  for (const [i, c] of INVALID.entries()) {
    await t.test(c.rule, () => {
      const r = results[i]!;
      assert.equal(r.code, 78, r.stderr);
      assert.equal(r.stderr, `${expected[i]}\n`);
      assert.equal(r.stdout, '');
      assert.ok(!existsSync(join(dir, `never-created-${i}`)), 'refused before touching the data directory');
    });
  }
});

test('check-config accepts the seed-shaped examples and keygen never overwrites', async () => {
  // Issue 13 §1: the commercial POP requires its signing key and the peer's public key (CV-1011).
  const unsigned = yamlFile(BACKUP);
  const missing = await runBin(['check-config', '--replication-config', unsigned]);
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, new RegExp(`^${unsigned.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:1: auth\\.signing_key_file: required: `));
  const own = writeSigningKeyFile(join(dir, 'zurich-signing.key'));
  const peer = writeSigningKeyFile(join(dir, 'calgary-signing.key'));
  const ownPinned = await runBin(['check-config', '--replication-config', yamlFile([...BACKUP, '  signing_key_file: "zurich-signing.key"', `  peer_public_key: "${own}"`])]);
  assert.equal(ownPinned.code, 78);
  assert.match(ownPinned.stderr, /:6:3: auth\.signing_key_file: .*is the key pinned as auth\.peer_public_key/);
  const ok = await runBin(['check-config', '--replication-config', yamlFile([...BACKUP, '  signing_key_file: "zurich-signing.key"', `  peer_public_key: "${peer}"`])]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /OK \(pop_id zurich-01, role backup\)/);
  const out = join(dir, 'keygen-bin.key');
  const first = await runBin(['keygen', '--out', out]);
  assert.equal(first.code, 0);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const before = readFileSync(out, 'utf8');
  const again = await runBin(['keygen', '--out', out]);
  assert.equal(again.code, 78);
  // The code comes first, like every keygen refusal (found by a newcomer's try-out: it was missing).
  assert.match(again.stderr, /^CV-1004: .*keygen-bin\.key:1:1: \(file\): already exists; keygen never overwrites/);
  assert.equal(readFileSync(out, 'utf8'), before);
});
