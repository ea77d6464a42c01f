/**
 * Issue 15 item 1: how a POP serves the web vault's files (src/http/web.ts, docs/web.md): only
 * `/`, `/app.js` and `/app.css`, by GET or HEAD, each with the strict security headers; no other
 * method, no directory listing, no path outside the table (traversal attempts get 404), not in the
 * OpenAPI document; a missing build file gets 404 CV-3040. Community edition, real process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { api, BIN, ServerProc, tempDir } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A raw GET with the path sent exactly as given (fetch would normalise `..`). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const r = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (m) => {
      let body = '';
      m.on('data', (d) => (body += d));
      m.on('end', () => res({ status: m.statusCode ?? 0, body }));
    });
    r.on('error', rej);
    r.end();
  });
}

test('the web vault files: headers, methods, no traversal, not in OpenAPI', async (t) => {
  const tmp = tempDir();
  const port = await freePort();
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', join(tmp.dir, 'data'), '--listen', `127.0.0.1:${port}`], port, join(tmp.dir, 'data'));
  t.after(async () => { await srv.kill(); tmp.cleanup(); });
  await srv.start();
  const types: Record<string, RegExp> = { '/': /^text\/html; charset=utf-8$/, '/app.js': /^text\/javascript; charset=utf-8$/, '/app.css': /^text\/css; charset=utf-8$/ };
  for (const [path, type] of Object.entries(types)) {
    for (const method of ['GET', 'HEAD']) {
      const r = await fetch(srv.url + path, { method });
      assert.equal(r.status, 200, `${method} ${path}`);
      assert.match(r.headers.get('content-type') ?? '', type);
      const csp = r.headers.get('content-security-policy') ?? '';
      for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) assert.ok(csp.includes(d), `${path} CSP has ${d}: ${csp}`);
      assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval') && !csp.includes('http'), csp);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.equal(r.headers.get('set-cookie'), null);
      const body = await r.text();
      if (method === 'HEAD') assert.equal(body, '');
      else assert.ok(body.length > 100);
    }
  }
  // The page has no inline script or style (the CSP would block it anyway).
  const html = await (await fetch(srv.url + '/')).text();
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) && !/<style/i.test(html) && !/\sstyle=/i.test(html) && !/\son[a-z]+=/i.test(html));
  assert.ok(!/https?:\/\//.test(html), 'no third-party reference');
  // Other methods: 404 CV-3004 (as every unserved method), never a write.
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await api(srv.url, method, '/', { body: '{}' });
    assert.equal(r.status, 404, `${method} /`);
    assert.equal(r.json.error.code, 'CV-3004');
  }
  // Only the table's paths: no listing, no file by another name, no traversal.
  for (const path of ['/index.html', '/web/', '/web/app.ts', '/dist/web/app.js', '/../package.json', '/%2e%2e/package.json', '/app.js/../../package.json',
    '/..%2f..%2fpackage.json', '/app.js.map', '/app.css?/../../etc/passwd/x', '//etc/passwd']) {
    const r = await rawGet(port, path);
    assert.ok(r.status === 404 || (r.status === 200 && path.startsWith('/app.css?')), `${path}: ${r.status}`);
    assert.ok(!r.body.includes('"name": "clavitor"') && !r.body.includes('root:'), `${path} leaked a file`);
  }
  // Not client API routes: absent from the OpenAPI document.
  const doc = await api(srv.url, 'GET', '/api/openapi.json');
  const paths = Object.keys(doc.json.paths);
  assert.ok(paths.length > 5);
  for (const p of ['/', '/app.js', '/app.css']) assert.ok(!paths.includes(p), p);
});

test('a missing web build file gets 404 CV-3040, the API still works', async (t) => {
  // An installation copied without web/: dist/ and package.json only (node_modules linked).
  const tmp = tempDir();
  const inst = join(tmp.dir, 'inst');
  mkdirSync(inst);
  cpSync(join(ROOT, 'dist'), join(inst, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(inst, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(inst, 'node_modules'));
  const port = await freePort();
  const data = join(tmp.dir, 'data');
  const srv = new ServerProc('community', join(inst, 'dist/src/bin/clavitor.js'), ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], port, data);
  t.after(async () => { await srv.kill(); tmp.cleanup(); });
  await srv.start();
  const page = await api(srv.url, 'GET', '/');
  assert.equal(page.status, 404);
  assert.equal(page.json.error.code, 'CV-3040');
  assert.equal((await api(srv.url, 'GET', '/app.js')).status, 200, 'the compiled script is in dist/');
  assert.equal((await api(srv.url, 'GET', '/healthz')).status, 200);
});
