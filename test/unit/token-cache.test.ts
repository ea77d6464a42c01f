/**
 * src/vault/token-cache.ts (issue 12 item 5): the cache never holds more than its bound and evicts
 * the least recently used token; an entry hits only for the exact token text and only while the
 * row keeps the verifier and wrapped keys it was verified against.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTokenKeyCache, TOKEN_KEY_CACHE_ENTRIES } from '../../src/vault/token-cache.js';

const row = (i: number) => ({ verifier: `ver-${i}`, wrapped: `wrap-${i}` });
const keys = (i: number) => ({ agent: Buffer.alloc(32, i) });
const text = (i: number) => `cvt1.vault.tok${i}.secret${i}`;

test('the cache holds at most its bound and evicts the least recently used entry', () => {
  assert.equal(TOKEN_KEY_CACHE_ENTRIES, 1024, 'the documented bound');
  const c = createTokenKeyCache(4);
  for (let i = 0; i < 4; i++) c.set(text(i), 'v', `tok${i}`, row(i), keys(i));
  assert.ok(c.get(text(0), row(0)), 'token 0 is now the most recently used');
  c.set(text(4), 'v', 'tok4', row(4), keys(4));
  assert.equal(c.size, 4);
  assert.equal(c.get(text(1), row(1)), undefined, 'the least recently used (1) was evicted');
  for (const i of [0, 2, 3, 4]) assert.ok(c.get(text(i), row(i)), `token ${i} is kept`);
  const big = createTokenKeyCache();
  for (let i = 0; i < TOKEN_KEY_CACHE_ENTRIES * 3; i++) big.set(text(i), 'v', `tok${i}`, row(i), keys(i));
  assert.equal(big.size, TOKEN_KEY_CACHE_ENTRIES);
});

test('only the exact token text and an unchanged row hit; dropToken forgets a token', () => {
  const c = createTokenKeyCache();
  c.set(text(1), 'v', 'tok1', row(1), keys(1));
  assert.equal(c.get(`${text(1)}x`, row(1)), undefined, 'another secret for the same token id misses');
  assert.equal(c.get(text(1), { ...row(1), verifier: 'other' }), undefined, 'a row with another verifier misses');
  assert.equal(c.size, 0, 'a stale entry is dropped on the miss');
  c.set(text(1), 'v', 'tok1', row(1), keys(1));
  assert.equal(c.get(text(1), { ...row(1), wrapped: 'rewrapped' }), undefined, 'a re-wrapped row misses');
  c.set(text(1), 'v', 'tok1', row(1), keys(1));
  c.set(text(2), 'v', 'tok2', row(2), keys(2));
  assert.deepEqual(c.get(text(1), row(1)), keys(1));
  c.dropToken('v', 'tok1');
  assert.equal(c.get(text(1), row(1)), undefined);
  assert.ok(c.get(text(2), row(2)));
});
