/**
 * `GET /`: a small self-contained status page (no external assets). It holds no data itself: the
 * operator types the control-plane token, kept only in the page's memory, and the page fetches
 * `/v1/status` with it every 2 seconds and renders it with `textContent` (never HTML), so no value
 * a POP reports can inject markup. A Content-Security-Policy allows only this page's own script
 * and style (by hash) and requests to the same origin.
 */
import { createHash } from 'node:crypto';

const STYLE = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#f3f3f3}.bad{color:#b00;font-weight:bold}
.pair{margin:1em 0;padding:.5em 1em;border-left:4px solid #888;background:#fafafa}#err{color:#b00}`;

const SCRIPT = `'use strict';
let token = '';
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; }
function dur(ms) { return ms < 1000 ? Math.round(ms) + 'ms' : ms < 60000 ? (ms / 1000).toFixed(1) + 's' : Math.floor(ms / 60000) + 'm' + Math.floor(ms / 1000 % 60) + 's'; }
function directive(d) { return d === null ? '-' : d.action === 'promote' ? 'promote@' + d.epoch : 'demote to ' + d.primary_id + '@' + d.epoch; }
function render(s) {
  const c = s.control_plane;
  $('cp').textContent = 'instance ' + c.instance_id + (c.leader ? ' (deciding)' : ' (not the leader)') + ', store ' + c.store +
    ', lease ' + c.lease_ttl_ms + ' ms + margin ' + c.safety_margin_ms + ' ms, failover after ' + c.failover_after_missed_heartbeats + ' missed heartbeats';
  const pairs = $('pairs'); pairs.replaceChildren();
  for (const p of s.pairs) {
    const box = el('div', undefined, 'pair');
    box.append(el('strong', p.pair_id + ': epoch ' + p.epoch + ', primary ' + (p.primary_id ?? 'none')));
    if (p.assessment) box.append(el('div', 'now: [' + p.assessment.kind + '] ' + p.assessment.text, p.assessment.kind === 'refuse' ? 'bad' : ''));
    if (p.last_decision) box.append(el('div', 'last: ' + new Date(p.last_decision.at_ms).toISOString() + ' [' + p.last_decision.kind + '] ' + p.last_decision.text));
    pairs.append(box);
  }
  const body = $('pops'); body.replaceChildren();
  for (const p of s.pops) {
    const tr = el('tr');
    for (const v of [p.pop_id, p.region, p.role, p.epoch, dur(p.heartbeat_age_ms), p.position, p.backlog, p.lag_seconds.toFixed(1) + 's', p.healthy ? 'yes' : 'NO',
      p.lease_remaining_ms > 0 ? dur(p.lease_remaining_ms) : '-', directive(p.directive),
      p.audit ? p.audit.records + ' records in ' + p.audit.vaults + ' vaults, ' + p.audit.digest.slice(0, 16) : '-']) tr.append(el('td', v));
    if (!p.healthy || p.role === 'fenced') tr.className = 'bad';
    body.append(tr);
  }
}
async function refresh() {
  if (!token) return;
  try {
    const r = await fetch('/v1/status', { headers: { authorization: 'Bearer ' + token }, cache: 'no-store' });
    const j = await r.json();
    if (!r.ok) {
      if (r.status === 401) token = ''; // stop polling with a wrong token (failures are rate-limited)
      $('err').textContent = (j.error && j.error.code ? j.error.code + ': ' + j.error.message : 'HTTP ' + r.status);
      return;
    }
    $('err').textContent = ''; render(j);
  } catch (e) { $('err').textContent = 'control plane unreachable: ' + e.message; }
}
$('form').addEventListener('submit', (ev) => { ev.preventDefault(); token = $('token').value.trim(); $('token').value = ''; refresh(); });
setInterval(refresh, 2000);`;

const hash = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The page's HTML. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>clavitor-control status</title><style>${STYLE}</style></head>
<body><h1>clavitor-control</h1>
<form id="form"><label>Control-plane token <input id="token" type="password" autocomplete="off" size="60"></label> <button>Show status</button></form>
<p id="err"></p><p id="cp"></p><div id="pairs"></div>
<table><thead><tr><th>POP</th><th>Region</th><th>Role</th><th>Epoch</th><th>Last heartbeat</th><th>Position</th><th>Backlog</th><th>Lag</th><th>Healthy</th><th>Lease</th><th>Directive</th><th>Audit trail</th></tr></thead>
<tbody id="pops"></tbody></table>
<script>${SCRIPT}</script></body></html>
`;

/** Response headers of the page: a CSP admitting only its own script and style, no caching, no framing. */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; script-src ${hash(SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});
