// StrykerJS configuration for `npm run mutate` (issue 17 item 3; docs/testing.md).
// One module group per run, chosen by CLAVITOR_MUTATE_GROUP (scripts/mutate.mjs sets it). Each
// group mutates a few pure modules and runs only the unit test files that cover them: never an
// e2e test that spawns servers. Tests run through node:test + tsx, one process per test file,
// and report TAP to @stryker-mutator/tap-runner.

/** Module groups: files to mutate and the unit test files (globs) that run against each mutant. */
export const GROUPS = {
  'vault-crypto': {
    mutate: ['src/vault/crypto.ts', 'src/vault/tokens.ts', 'src/vault/aad.ts', 'src/vault/sealed.ts', 'src/vault/entry-codec.ts'],
    tests: ['test/unit/vault-crypto-props.test.ts', 'test/unit/vault-crypto.mutation.test.ts'],
  },
  limits: {
    mutate: ['src/vault/rate-limit.ts', 'src/vault/agent-gate.ts', 'src/http/auth-throttle.ts'],
    tests: ['test/unit/vault-rate-limit.test.ts', 'test/unit/auth-throttle.test.ts', 'test/unit/limits.mutation.test.ts'],
  },
  generate: {
    mutate: ['src/vault/password-gen.ts', 'src/vault/totp.ts'],
    tests: ['test/unit/vault-totp-generate.test.ts', 'test/unit/generate.mutation.test.ts'],
  },
  config: {
    mutate: ['src/config/schema.ts', 'src/config/validate.ts', 'src/config/describe-issue.ts', 'src/config/token-strength.ts', 'src/config/url.ts'],
    // Not config.test.ts: it makes TLS material and spawns the built binary (minutes per run, and
    // the binary runs dist/, not the mutant). config.mutation.test.ts checks the same rules
    // in-process. Most mutants of schema.ts are static (module-level zod definitions), so they
    // run every listed file: keep this list short.
    tests: ['test/unit/config.mutation.test.ts'],
  },
  decide: {
    mutate: ['src/controlplane/server/decide.ts'],
    tests: ['test/unit/control-decide.test.ts', 'test/unit/control-decide.mutation.test.ts'],
  },
  chaos: {
    mutate: ['scripts/chaos/checks.ts'],
    tests: ['test/chaos/checks.test.ts', 'test/chaos/checks.mutation.test.ts'],
  },
};

const name = process.env.CLAVITOR_MUTATE_GROUP ?? 'generate';
const group = GROUPS[name];
if (!group) throw new Error(`unknown mutation group "${name}"; known: ${Object.keys(GROUPS).join(', ')}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles: group.tests,
    // The hook must load before tsx; node:test prints TAP when told so (stdout is a pipe anyway).
    nodeArgs: ['-r', '{{hookFile}}', '--import', 'tsx', '--test-reporter=tap', '{{testFile}}'],
    forceBail: true,
  },
  mutate: group.mutate,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // Only what the unit tests import is copied into the sandbox.
  ignorePatterns: ['/*', '!/src', '!/scripts', '!/test', '!/package.json', '!/tsconfig.json', '/test/e2e', '/test/integration', '/test/fuzz'],
  thresholds: { high: 90, low: 80, break: null },
};
