/**
 * The server of the worker-thread writer experiment (issue 12 item 2: "Measure whether running
 * the writer on a worker thread (reads stay on the main thread under WAL) improves throughput or
 * read latency under mixed load"): `node dist/bench/client/writer-thread-server.js <main|worker> <data
 * dir> <port>`; prints `listening <port>` on stdout once it listens on 127.0.0.1.
 *
 * A fastify 5 server shaped like a POP's hot path, with the product's group committer
 * (src/store/group-commit.ts) and SQLite settings (WAL, `synchronous = FULL`):
 *
 * - `POST /w`: parses the JSON body, encrypts it with AES-256-GCM (on the main thread, as a POP
 *   encrypts in the request), and queues one job for the group commit that inserts a revision row
 *   (1 KiB body) and a hash-chained audit row; answers 201 `{ id }` once the batch committed.
 * - `GET /r/:id`: reads a revision row on the main thread's connection, decrypts it, answers the
 *   plaintext JSON (404 for an unknown id). Rows 1..`SEED_ROWS` exist from the start.
 *
 * Mode `main`: the committer and its connection run on the main thread (the product today).
 * Mode `worker`: a `worker_threads` Worker owns a second connection and the same committer; the
 * main thread posts each job's row to it and resolves the request when the worker reports the
 * batch committed. Reads stay on the main thread's connection in both modes (WAL: readers do not
 * wait for the writer).
 *
 * Benchmark-only code: never part of the product or of `npm test`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData, Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { createGroupCommitter } from '../../src/store/group-commit.js';

/** Rows present before the load starts (the reads pick among them). */
export const SEED_ROWS = 1000;

/** One write as the writer receives it. */
interface WriteJob { id: number; iv: Buffer; tag: Buffer; data: Buffer; at: string }

function openDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS revisions (id INTEGER PRIMARY KEY, iv BLOB NOT NULL, tag BLOB NOT NULL, data BLOB NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, action TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);`);
  return db;
}

/** The writer: one connection, the product's group committer, a job = revision row + audit row. */
function createWriter(db: Database.Database): (job: WriteJob) => Promise<void> {
  const committer = createGroupCommitter(db);
  const insertRev = db.prepare('INSERT INTO revisions (id, iv, tag, data, created_at) VALUES (?, ?, ?, ?, ?)');
  const lastAudit = db.prepare<[], { hash: string }>('SELECT hash FROM audit ORDER BY id DESC LIMIT 1');
  const insertAudit = db.prepare('INSERT INTO audit (at, action, prev_hash, hash) VALUES (?, ?, ?, ?)');
  return (job) => committer.enqueue(() => {
    insertRev.run(job.id, job.iv, job.tag, job.data, job.at);
    const prev = lastAudit.get()?.hash ?? '';
    insertAudit.run(job.at, 'entry.create', prev, createHash('sha256').update(prev).update(String(job.id)).digest('hex'));
  });
}

if (!isMainThread) {
  // Worker mode's writer thread: jobs in, `{ n, error? }` out once their batch committed.
  const { file } = workerData as { file: string };
  const write = createWriter(openDb(file));
  parentPort!.on('message', (m: { n: number; job: WriteJob }) => {
    write({ ...m.job, iv: Buffer.from(m.job.iv), tag: Buffer.from(m.job.tag), data: Buffer.from(m.job.data) })
      .then(() => parentPort!.postMessage({ n: m.n }), (e: unknown) => parentPort!.postMessage({ n: m.n, error: (e as Error).message }));
  });
} else if (process.argv[1]?.endsWith('writer-thread-server.js')) {
  await main();
}

async function main(): Promise<void> {
  const [mode, dir, portText] = process.argv.slice(2);
  if ((mode !== 'main' && mode !== 'worker') || !dir || !portText) throw new Error('usage: writer-thread-server.js <main|worker> <data dir> <port>');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'bench.db');
  const db = openDb(file);
  const key = randomBytes(32);
  const seal = (plain: Buffer) => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([c.update(plain), c.final()]);
    return { iv, tag: c.getAuthTag(), data };
  };
  const seed = db.prepare('INSERT OR REPLACE INTO revisions (id, iv, tag, data, created_at) VALUES (?, ?, ?, ?, ?)');
  const body = Buffer.from(JSON.stringify({ title: 'seed', fields: [{ label: 'v', value: 'x'.repeat(1024) }] }));
  db.transaction(() => {
    for (let i = 1; i <= SEED_ROWS; i++) {
      const s = seal(body);
      seed.run(i, s.iv, s.tag, s.data, new Date().toISOString());
    }
  })();
  let nextId = SEED_ROWS + 1;

  let write: (job: WriteJob) => Promise<void>;
  if (mode === 'main') {
    write = createWriter(db);
  } else {
    const worker = new Worker(new URL(import.meta.url), { workerData: { file } });
    const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
    let n = 0;
    worker.on('message', (m: { n: number; error?: string }) => {
      const p = pending.get(m.n);
      pending.delete(m.n);
      if (m.error === undefined) p?.resolve();
      else p?.reject(new Error(m.error));
    });
    worker.on('error', (e) => { process.stderr.write(`writer worker failed: ${e.message}\n`); process.exit(1); });
    write = (job) => new Promise<void>((resolve, reject) => {
      const k = n++;
      pending.set(k, { resolve, reject });
      worker.postMessage({ n: k, job });
    });
  }

  const read = db.prepare<[number], { iv: Buffer; tag: Buffer; data: Buffer }>('SELECT iv, tag, data FROM revisions WHERE id = ?');
  const app = Fastify({ bodyLimit: 8 * 1024 * 1024 });
  app.post('/w', async (req, reply) => {
    const id = nextId++;
    const s = seal(Buffer.from(JSON.stringify(req.body)));
    await write({ id, ...s, at: new Date().toISOString() });
    return reply.code(201).send({ id });
  });
  app.get<{ Params: { id: string } }>('/r/:id', async (req, reply) => {
    const row = read.get(Number(req.params.id));
    if (!row) return reply.code(404).send({ error: 'not found' });
    const d = createDecipheriv('aes-256-gcm', key, row.iv);
    d.setAuthTag(row.tag);
    return reply.type('application/json').send(Buffer.concat([d.update(row.data), d.final()]));
  });
  await app.listen({ host: '127.0.0.1', port: Number(portText) });
  // A normal exit on SIGTERM, so that `--cpu-prof` writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write(`listening ${portText}\n`);
}
