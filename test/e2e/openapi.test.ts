/**
 * Issue 7 item 4: the OpenAPI document at /api/openapi.json lists exactly the client routes the
 * server registered (no inter-POP route), with request bodies from the handlers' zod schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, BIN, ServerProc, tempDir } from '../helpers/pop.js';
import { freePort } from '../helpers/ports.js';

test('GET /api/openapi.json describes the client API', async (t) => {
  const tmp = tempDir();
  const port = await freePort();
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', join(tmp.dir, 'data'), '--listen', `127.0.0.1:${port}`], port, join(tmp.dir, 'data'));
  t.after(async () => { await srv.kill(); tmp.cleanup(); });
  await srv.start();
  const r = await api(srv.url, 'GET', '/api/openapi.json');
  assert.equal(r.status, 200);
  assert.equal(r.json.openapi, '3.1.0');
  const paths = Object.keys(r.json.paths);
  for (const p of ['/api/vaults', '/api/entries', '/api/entries/{id}', '/api/entries/{id}/revisions', '/api/agents', '/api/agents/{id}', '/api/audit', '/api/quarantine', '/api/quarantine/{id}', '/api/status', '/healthz', '/metrics']) assert.ok(paths.includes(p), p);
  assert.ok(!paths.some((p) => p.startsWith('/replication')));
  const post = r.json.paths['/api/entries'].post;
  assert.deepEqual(post.requestBody.content['application/json'].schema.required, ['title']);
  assert.ok(r.json.paths['/api/entries/{id}'].put.requestBody);
  assert.equal(r.json.paths['/api/entries/{id}'].get.parameters[0].name, 'id');
  // Every documented GET without a path parameter answers with something other than 404.
  for (const p of paths.filter((x) => !x.includes('{') && r.json.paths[x].get)) {
    assert.notEqual((await api(srv.url, 'GET', p)).status, 404, p);
  }
});
