/**
 * Case F4 (DESIGN.md §4.4.3–5): one very large entry — an ssh_key entry with many fields and
 * ~5 MiB of notes — is written in the same burst as many small ones while the backup is down.
 * When the backup returns everything replicates; the batch holding the large revision is split
 * (PUSH_SPLIT_BYTES), so there are more pushes than ceil(n / batch_size); no push is retried
 * (the only failed attempts are the connection refusals while the backup was down); and the large
 * entry reads back byte-identical on the backup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { api, BIN, createVault, provisionPair, waitFor } from '../kit/pop.js';

const BATCH = 100;

/** ~5 MiB of notes: random base64 lines plus multi-byte UTF-8, quotes and backslashes. */
function bigNotes(): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 5 * 1024 * 1024; i++) {
    const line = `${i} ${randomBytes(60).toString('base64')} «é ü ✓ 鍵» "q" \\ \t`;
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return lines.join('\n');
}

/** Sum of clavitor_replication_pushes_total{direction="sent",result≠"ok"}. */
function failedPushes(metrics: string): number {
  let n = 0;
  for (const m of metrics.matchAll(/^clavitor_replication_pushes_total\{direction="sent",result="(\w+)"\} (\d+)$/gm)) if (m[1] !== 'ok') n += Number(m[2]);
  return n;
}

test('F4: a several-MiB entry in a burst of small ones replicates in split batches, without a retry loop', async (t) => {
  const pair = await provisionPair({ batchSize: BATCH, maxRetries: 5 });
  t.after(() => pair.stop());
  await pair.primary.start(); // the backup is down
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken());

  const notes = bigNotes();
  const bigFields = [
    { label: 'private_key', value: `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(2600).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`, kind: 'ssh_private_key', tier: 'owner' as const },
    { label: 'public_key', value: `ssh-ed25519 ${randomBytes(51).toString('base64')} deploy@ci`, kind: 'ssh_public_key', tier: 'agent' as const },
    { label: 'passphrase', value: randomBytes(24).toString('hex'), kind: 'password', tier: 'owner' as const },
    ...Array.from({ length: 60 }, (_, i) => ({ label: `host_${i}`, value: `host-${i}.internal.example:22`, kind: 'text', tier: 'agent' as const })),
    { label: 'notes', value: notes, kind: 'text', tier: 'owner' as const },
  ];
  const bigBody = { type: 'ssh_key', title: 'deploy key (fleet)', fields: bigFields };
  assert.ok(Buffer.byteLength(JSON.stringify(bigBody)) < 8 * 1024 * 1024, 'fits the 8 MiB client body limit');

  // The burst: small writes, the large one, more small writes — all while the backup is down.
  const small = (i: number) => api(P, 'POST', '/api/entries', { token: owner, body: { title: `small ${i}`, fields: [{ label: 'password', value: `pw-${i}`, tier: 'agent' }] } });
  const first = await Promise.all(Array.from({ length: 60 }, (_, i) => small(i)));
  const big = await api(P, 'POST', '/api/entries', { token: owner, body: bigBody });
  assert.equal(big.status, 201, JSON.stringify(big.json));
  const rest = await Promise.all(Array.from({ length: 80 }, (_, i) => small(60 + i)));
  for (const r of [...first, ...rest]) assert.equal(r.status, 201);
  const n = 1 + first.length + 1 + rest.length; // vault.create + entries
  const before = await pair.primary.status();
  assert.equal(before.replication.backlog, n);
  const failedBefore = failedPushes((await api(P, 'GET', '/metrics', { token: pair.primary.adminToken() })).json);
  assert.ok(failedBefore >= 1, 'the pushes refused while the backup was down are counted');

  await pair.backup.start();
  await waitFor('backlog drained', async () => (await pair.primary.status()).replication.backlog === 0, 30_000);
  const after = await pair.primary.status();
  const failedAfter = failedPushes((await api(P, 'GET', '/metrics', { token: pair.primary.adminToken() })).json);

  // Split: more pushes than ceil(n / batch_size), none above batch_size, the large one alone.
  const pushes = pair.backup.logLines().filter((l) => l.event === 'replication.push_applied');
  const sizes = pushes.map((p) => p.items as number);
  t.diagnostic(`${n} revisions, batch_size ${BATCH}: ${pushes.length} pushes of ${sizes.join(', ')} items (unsplit: ${Math.ceil(n / BATCH)})`);
  assert.ok(pushes.length > Math.ceil(n / BATCH), `batch split: ${pushes.length} pushes > ${Math.ceil(n / BATCH)}`);
  for (const s of sizes) assert.ok(s <= BATCH, `push of ${s} items > batch_size`);
  // docs/replication.md "Batches": pushes go in backlog order, and a revision larger than the 4 MiB
  // push limit travels alone. The large revision is at backlog position 61 (0-based: vault.create,
  // then the 60 small writes acknowledged before it was sent), so the push whose item range covers
  // position 61 must hold exactly that one item.
  assert.ok(sizes.length > 0);
  assert.equal(sizes.reduce((a, b) => a + b, 0), n, 'every revision pushed once, in order');
  const bigAt = 1 + first.length;
  let from = 0;
  const carrier = sizes.findIndex((size) => {
    const covers = bigAt >= from && bigAt < from + size;
    from += size;
    return covers;
  });
  assert.ok(carrier >= 0, 'a push covers the large revision');
  assert.equal(sizes[carrier], 1, `the large revision travelled alone (push ${carrier + 1} of ${sizes.length}: ${sizes.join(', ')})`);
  assert.equal(sizes.slice(0, carrier).reduce((a, b) => a + b, 0), bigAt, 'the pushes before it end just before it');
  assert.equal(pushes.reduce((a, p) => a + (p.applied as number), 0), n, 'every revision applied exactly once');
  assert.equal(pushes.reduce((a, p) => a + (p.skipped as number), 0), 0, 'no push repeated');

  // No retry loop: the only failed attempts were refused connections while the backup was down;
  // between the last sample and the backup listening at most one backoff timer can fire, and one
  // probe armed by the burst's writes (docs/replication.md: a write while backing off probes the
  // link at most once a second; one CI run under load saw failed pushes 5 → 7, retries 2 → 3).
  const retries = pair.primary.logLines().filter((l) => l.event === 'replication.retry');
  t.diagnostic(`retries: ${before.replication.retries} while down, ${after.replication.retries} in all; failed pushes ${failedBefore} → ${failedAfter}`);
  for (const r of retries) assert.match(String(r.last_error), /ECONNREFUSED/, 'every retry was caused by the backup being down');
  assert.ok(after.replication.retries <= before.replication.retries + 1, `retries ${before.replication.retries} → ${after.replication.retries}`);
  const probesSince = after.replication.probes - before.replication.probes;
  assert.ok(probesSince <= 1, `probes ${before.replication.probes} → ${after.replication.probes}`);
  assert.ok(failedAfter <= failedBefore + 1 + probesSince, `failed pushes ${failedBefore} → ${failedAfter} (probes since the sample: ${probesSince})`);
  assert.equal(after.replication.state, 'idle');
  assert.equal(after.replication.last_error, null);
  assert.equal(after.replication.alerts, 0);

  // Byte-identical on the backup (and on the primary).
  for (const base of [P, B]) {
    const r = await api(base, 'GET', `/api/entries/${big.json.id}`, { token: owner });
    assert.equal(r.status, 200);
    assert.equal(r.json.type, 'ssh_key');
    assert.equal(r.json.version, big.json.version);
    assert.equal(r.json.fields.length, bigFields.length);
    for (const [i, f] of bigFields.entries()) {
      assert.equal(r.json.fields[i].label, f.label);
      assert.ok(r.json.fields[i].value === f.value, `${base === B ? 'backup' : 'primary'} field ${f.label} byte-identical`);
    }
  }
  for (const r of [...first, ...rest].filter((_, i) => i % 10 === 0)) {
    assert.equal((await api(B, 'GET', `/api/entries/${r.json.id}`, { token: owner })).json.title, r.json.title);
  }
  const verify = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [BIN.commercial, 'verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile], (err, stdout) => resolve({ code: err ? 1 : 0, stdout }));
  });
  assert.equal(verify.code, 0, verify.stdout);
  assert.match(verify.stdout, /^identical: 1 vaults/);
});
