/**
 * Issue 7 item 4: the OpenAPI document at /api/openapi.json lists exactly the client routes the
 * server registered (no inter-POP route), with request bodies from the handlers' zod schemas. The
 * expected routes are read from the contract: the route table of docs/api.md (the DESIGN.md §3
 * routes plus `/totp`, `/unlock` and `/api/generate`), minus the commercial-only and inter-POP ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, BIN, ServerProc, tempDir } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';

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
  // docs/api.md "Routes": one row per `METHOD /path`; the community edition serves neither
  // /admin/v1/* nor /replication/v1/*.
  const doc = readFileSync(join(import.meta.dirname, '../../docs/api.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Routes'), doc.indexOf('\n---\n', doc.indexOf('## Routes')));
  const documented = [...table.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`\s?]*)`/gm)].map((m) => `${m[1]} ${m[2]}`)
    .filter((x) => !/ \/(admin|replication)\/v1\//.test(x));
  for (const must of ['POST /api/vaults', 'GET /api/generate', 'GET /api/entries/{id}/totp', 'POST /api/agents/{id}/unlock', 'PATCH /api/agents/{id}', 'GET /healthz', 'GET /metrics']) {
    assert.ok(documented.includes(must), `docs/api.md lists ${must}`);
  }
  const methods = ['get', 'post', 'put', 'patch', 'delete'];
  const served = paths.flatMap((p) => methods.filter((m) => r.json.paths[p][m]).map((m) => `${m.toUpperCase()} ${p}`))
    .filter((x) => x !== 'GET /api/openapi.json');
  assert.ok(served.length > 0);
  assert.deepEqual([...served].sort(), [...documented].sort(), 'exactly the documented client routes');
  assert.ok(!paths.some((p) => p.startsWith('/replication') || p.startsWith('/admin')));
  const post = r.json.paths['/api/entries'].post;
  assert.deepEqual(post.requestBody.content['application/json'].schema.required, ['title']);
  assert.ok(r.json.paths['/api/entries/{id}'].put.requestBody);
  assert.equal(r.json.paths['/api/entries/{id}'].get.parameters[0].name, 'id');
  // Issue 14 item 2: scope and expiry keys of the agent routes, from docs/api.md.
  const agentProps = Object.keys(r.json.paths['/api/agents'].post.requestBody.content['application/json'].schema.properties);
  for (const k of ['scopes', 'folders', 'tags', 'expires_at', 'ttl_seconds']) assert.ok(agentProps.includes(k), `POST /api/agents takes ${k}`);
  assert.ok(r.json.paths['/api/agents/{id}'].patch.requestBody);
  assert.ok(Object.keys(post.requestBody.content['application/json'].schema.properties).includes('tags'));
  // Every documented GET without a path parameter answers with something other than 404.
  for (const p of paths.filter((x) => !x.includes('{') && r.json.paths[x].get)) {
    assert.notEqual((await api(srv.url, 'GET', p)).status, 404, p);
  }
});
