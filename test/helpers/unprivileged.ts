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
 * The child is `node --import tsx` run from the repository root, so it can import `src/` directly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

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
 * Runs the ES module source `code` (TypeScript allowed; import from `src/…` by absolute path) in
 * `node --import tsx` as an unprivileged user, with the repository root as working directory.
 * Returns the child's uid as it saw itself, its exit status and its output. Throws when root
 * cannot switch (see the file header).
 */
export function runUnprivileged(code: string): { uid: number; status: number | null; stdout: string; stderr: string; user: string } {
  const { prefix, user } = unprivilegedPrefix();
  const script = `process.stdout.write('uid=' + process.getuid() + '\\n');\n${code}`;
  const argv = [...prefix, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const uid = Number(/^uid=(\d+)$/m.exec(r.stdout ?? '')?.[1] ?? NaN);
  return { uid, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', user };
}

/** Absolute path of a repository file, for imports in `runUnprivileged` code. */
export const repoPath = (rel: string): string => resolve(ROOT, rel);
