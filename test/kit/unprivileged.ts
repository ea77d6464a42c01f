/**
 * Running a check as an unprivileged user (issue 17 item 4). Some checks mean nothing as root
 * (root reads a file of mode 0000), and CI runs as root, so such a check runs in a child process
 * that has dropped to an ordinary user instead of being skipped:
 *
 * - not root: the child runs as the current user, who is already unprivileged;
 * - root: `setpriv --reuid=U --regid=G --clear-groups` (util-linux, on every Debian), else
 *   `runuser -u U --`, with U = `$CLAVITOR_TEST_USER` (`.ci/run` creates `clavitor-test`) or
 *   Debian's `nobody`, G its primary group. Root without a way to switch throws: the test fails
 *   and says why; it never skips silently.
 *
 * The child cannot rely on reaching the repository: a clone under a directory of mode 0700 (such as
 * /root) is closed to every other user. So the child's script, with everything it imports from
 * `src/` and node_modules, is bundled by esbuild (installed with tsx) into one file in a fresh
 * world-readable directory under the system temp directory, and run there with plain `node`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

/** The command prefix that drops to the unprivileged user, and who that is (for messages). */
export function unprivilegedPrefix(): { prefix: string[]; user: string } {
  if (process.getuid?.() !== 0) return { prefix: [], user: `uid ${process.getuid?.() ?? '?'} (not root already)` };
  const user = process.env.CLAVITOR_TEST_USER || 'nobody';
  let group: string;
  try {
    group = execFileSync('id', ['-gn', user], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`running as root and user ${user} does not exist: create it (useradd --system ${user}) or set CLAVITOR_TEST_USER to an existing unprivileged user`);
  }
  const has = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  if (has('setpriv')) return { prefix: ['setpriv', `--reuid=${user}`, `--regid=${group}`, '--clear-groups'], user };
  if (has('runuser')) return { prefix: ['runuser', '-u', user, '--'], user };
  throw new Error('running as root and neither setpriv nor runuser (util-linux) is installed: apt-get install -y util-linux');
}

/**
 * Runs the ES module source `code` (TypeScript allowed; import from `src/…` by absolute path, see
 * `repoPath`) as an unprivileged user: bundled with its imports into one file in a fresh temporary
 * directory (modes 0755/0644), run with `node` from there. Returns the child's uid as it saw itself,
 * its exit status and its output. Throws when root cannot switch (see the file header).
 */
export function runUnprivileged(code: string): { uid: number; status: number | null; stdout: string; stderr: string; user: string } {
  const { prefix, user } = unprivilegedPrefix();
  const script = `process.stdout.write('uid=' + process.getuid() + '\\n');\n${code}`;
  const stage = mkdtempSync(join(tmpdir(), 'clavitor-unprivileged-'));
  try {
    chmodSync(stage, 0o755);
    const outfile = join(stage, 'child.mjs');
    buildSync({
      stdin: { contents: script, resolveDir: ROOT, loader: 'ts', sourcefile: 'unprivileged-child.ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'silent',
      // CommonJS dependencies call require() for Node built-ins; an ES module bundle needs one.
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    chmodSync(outfile, 0o644);
    const argv = [...prefix, process.execPath, outfile];
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: stage, encoding: 'utf8', timeout: 60_000 });
    const uid = Number(/^uid=(\d+)$/m.exec(r.stdout ?? '')?.[1] ?? NaN);
    return { uid, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', user };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Absolute path of a repository file, for imports in `runUnprivileged` code. */
export const repoPath = (rel: string): string => resolve(ROOT, rel);
