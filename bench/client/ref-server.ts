/**
 * The reference servers of issue 12's targets: the least a Node.js server on the same stack can do
 * for the same request, run as its own process (`node dist/bench/client/ref-server.js <mode> <data dir>
 * <port>`; prints `listening <port>` on stdout once it listens on 127.0.0.1). Both use fastify 5 and
 * better-sqlite3 with Clavitor's SQLite settings (WAL, `synchronous = FULL`), no authentication,
 * no audit, no replication:
 *
 * - `write`: `POST /api/entries` parses the JSON body and inserts it as one row in its own
 *   transaction — one fsync'd commit per request — then answers 201 `{id, version}`.
 * - `read`: at start, one 1 KiB entry (the benchmarks' `entryBody`) is stored encrypted with
 *   AES-256-GCM under a random key held in memory; `GET /api/entries/:id` reads the row,
 *   decrypts it and answers the plaintext JSON (404 for another id).
 *
 * Benchmark-only code: never part of the product or of `npm test`.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { entryBody } from '../lib/client.js';
import { REF_ENTRY_ID } from './reference.js';

async function main(): Promise<void> {
  const [mode, dir, portText] = process.argv.slice(2);
  if ((mode !== 'write' && mode !== 'read') || !dir || !portText) throw new Error('usage: ref-server.js <write|read> <data dir> <port>');
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'ref.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const app = Fastify({ bodyLimit: 8 * 1024 * 1024 });
  if (mode === 'write') {
    db.exec('CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, body TEXT NOT NULL)');
    const insert = db.prepare<[string, string]>('INSERT INTO entries (id, body) VALUES (?, ?)');
    app.post('/api/entries', async (req, reply) => {
      const id = randomUUID();
      const r = insert.run(id, JSON.stringify(req.body)); // autocommit: one transaction, one fsync of the WAL
      return reply.code(201).send({ id, version: Number(r.lastInsertRowid) });
    });
  } else {
    db.exec('CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, iv BLOB NOT NULL, tag BLOB NOT NULL, data BLOB NOT NULL)');
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([c.update(entryBody('get'), 'utf8'), c.final()]);
    db.prepare('INSERT OR REPLACE INTO entries (id, iv, tag, data) VALUES (?, ?, ?, ?)').run(REF_ENTRY_ID, iv, c.getAuthTag(), data);
    const get = db.prepare<[string], { iv: Buffer; tag: Buffer; data: Buffer }>('SELECT iv, tag, data FROM entries WHERE id = ?');
    app.get<{ Params: { id: string } }>('/api/entries/:id', async (req, reply) => {
      const row = get.get(req.params.id);
      if (!row) return reply.code(404).send({ error: 'not found' });
      const d = createDecipheriv('aes-256-gcm', key, row.iv);
      d.setAuthTag(row.tag);
      const plain = Buffer.concat([d.update(row.data), d.final()]);
      return reply.type('application/json').send(plain);
    });
  }
  await app.listen({ host: '127.0.0.1', port: Number(portText) });
  process.stdout.write(`listening ${portText}\n`);
}

await main();
