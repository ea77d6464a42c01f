/**
 * `--version` of every binary (issue 11 item 9): `<binary> <package version> (<edition>)`, read
 * from the package.json of this checkout or install (the nearest one above this file, which is
 * `src/bin/` under tsx and `dist/src/bin/` when built). Prints `unknown` rather than failing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Edition each binary belongs to; `clavitor-cli` is the client of both editions. */
const EDITION_OF = {
  clavitor: 'community edition',
  'clavitor-commercial': 'commercial edition',
  'clavitor-control': 'commercial edition, control plane',
  'clavitor-cli': 'client for the community and commercial editions',
} as const;

/** A binary that answers `--version`. */
export type BinaryName = keyof typeof EDITION_OF;

/** The `version` field of the nearest package.json named `clavitor` above this module, or `unknown`. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'clavitor' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** The line `--version` prints, e.g. `clavitor-commercial 0.1.0 (commercial edition)`. */
export function versionLine(binary: BinaryName): string {
  return `${binary} ${packageVersion()} (${EDITION_OF[binary]})`;
}
