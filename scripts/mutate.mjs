// `npm run mutate [-- <group>... [stryker options]]`: mutation testing of the pure modules with
// StrykerJS (issue 17 item 3; docs/testing.md). Runs the named module groups of
// stryker.config.mjs one after another (all of them when none is named); any argument starting
// with `-` goes to `stryker run` as is (e.g. `--concurrency 1`, `--mutate src/vault/totp.ts`).
// Reports land in reports/mutation/<group>.{html,json}; reruns are incremental.
import { spawnSync } from 'node:child_process';
import { GROUPS } from '../stryker.config.mjs';

const args = process.argv.slice(2);
const names = [];
const passThrough = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a.startsWith('-')) {
    passThrough.push(a);
    // An option's value (`--concurrency 1`) travels with it.
    if (!a.includes('=') && args[i + 1] !== undefined && !args[i + 1].startsWith('-') && !(args[i + 1] in GROUPS)) passThrough.push(args[++i]);
  } else names.push(a);
}
const unknown = names.filter((n) => !(n in GROUPS));
if (unknown.length > 0) {
  console.error(`unknown group(s): ${unknown.join(', ')}; known: ${Object.keys(GROUPS).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of names.length > 0 ? names : Object.keys(GROUPS)) {
  console.log(`\n=== mutation group ${name}: ${GROUPS[name].mutate.join(', ')}`);
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', ...passThrough], {
    stdio: 'inherit',
    env: { ...process.env, CLAVITOR_MUTATE_GROUP: name },
  });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
