/**
 * src/http/response-schemas.ts (issue 12 item 5): answers serialised through the response schemas
 * are byte-identical to `JSON.stringify` of the same object — the serialisation the routes had
 * before — for every shape docs/api.md gives: values and redacted fields, a null and a string
 * parent, a listing, and both editions' status (the commercial one with nested, open fields).
 * Uses fastify itself (the same compilation the routes get), via `inject`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { ENTRY_CREATED_RESPONSE, ENTRY_LIST_RESPONSE, ENTRY_OK_RESPONSE, STATUS_RESPONSE } from '../../src/http/response-schemas.js';

const entry = {
  id: 'e_01', type: 'credential', parent: null, title: 'github "work" \u2028 ü', version: 12,
  created_at: '2026-11-30T10:00:00.000Z', updated_at: '2026-11-30T11:00:00.000Z',
  fields: [
    { label: 'user', kind: 'text', tier: 'agent', value: 'alice\n\t"x"' },
    { label: 'password', kind: 'text', tier: 'owner', redacted: true },
    { label: 'recovery', kind: 'text', tier: 'sealed', value: 'cs1.abc' },
  ],
};
const list = { entries: [{ id: 'e_01', type: 'note', parent: 'e_00', title: 't', version: 3, updated_at: '2026-11-30T11:00:00.000Z' }, { id: 'e_02', type: 'credential', parent: null, title: '', version: 4, updated_at: '2026-11-30T11:00:01.000Z' }] };
const emptyList = { entries: [] };
const community = { edition: 'community', role: 'standalone', pop_id: null, region: null, epoch: 0, replication: null };
const commercial = {
  edition: 'commercial', role: 'primary', pop_id: 'calgary-01', region: 'north-america', epoch: 3, seen_epoch: 3, role_source: 'file', hold: null, draining: false, accepting_writes: true,
  control_plane: null,
  replication: { peer: 'zurich-01', state: 'idle', backlog: 0, pushes_sent: 5, pushes_received: 0, last_ack_at: null, lag_seconds: 0.25, resync: { queued_revisions: 1, remaining: 0, progress: 1, started_at: 'x' }, future_field: [1, 'a'] },
};

test('entry, listing and status answers are byte-identical to JSON.stringify', async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  const cases: [string, object, object][] = [
    ['/created', ENTRY_CREATED_RESPONSE, entry],
    ['/entry', ENTRY_OK_RESPONSE, entry],
    ['/entry-parent', ENTRY_OK_RESPONSE, { ...entry, parent: 'e_00', fields: [] }],
    ['/list', ENTRY_LIST_RESPONSE, list],
    ['/list-empty', ENTRY_LIST_RESPONSE, emptyList],
    ['/status-community', STATUS_RESPONSE, community],
    ['/status-commercial', STATUS_RESPONSE, commercial],
  ];
  for (const [url, schema, body] of cases) {
    const code = schema === ENTRY_CREATED_RESPONSE ? 201 : 200;
    app.get(url, { schema }, async (_req, reply) => reply.code(code).send(body));
  }
  await app.ready();
  assert.ok(cases.length > 0);
  for (const [url, , body] of cases) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.body, JSON.stringify(body), `${url}: same bytes as JSON.stringify`);
  }
});
