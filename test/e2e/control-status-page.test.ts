/**
 * Issue 7 item 2: the control plane's status page, driven in headless Chromium (Debian's
 * `chromium`, installed by .ci/run; playwright-core, never a downloaded browser). The operator
 * types the token; the page shows every POP with role, epoch, backlog, lag and health, and
 * renders a hostile value reported by a POP as text, never markup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { controlFixture, controlProc, SimPop } from '../kit/control.js';

const CHROMIUM = '/usr/bin/chromium';

test('the status page shows every POP, in a real browser', async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  const fx = controlFixture();
  const token = readFileSync(fx.tokenFile, 'utf8').trim();
  const cp = await controlProc('control', fx, token);
  t.after(async () => { await cp.kill(); fx.cleanup(); });
  await cp.start();
  const calgary = new SimPop('calgary-01', 'zurich-01', 'primary');
  const zurich = new SimPop('zurich-01', 'calgary-01', 'backup');
  zurich.epoch = 1;
  // A backlog no other cell shows (position is 100, epoch 1), and a region that is markup.
  calgary.backlog = 7319;
  const HOSTILE = '<img src=x onerror="window.__pwned=1"><b id="injected">x</b>';
  zurich.region = HOSTILE;
  await calgary.beat(cp);
  await zurich.beat(cp);

  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(cp.url + '/');
  await page.fill('#token', token);
  await page.click('button');
  await page.waitForSelector('#pops tr:nth-child(2)', { timeout: 10_000 });
  // Read the table by column (the page's own header names each cell), not by matching anywhere.
  const headers = await page.$$eval('thead th', (ths) => ths.map((th) => th.textContent ?? ''));
  const cells = await page.$$eval('#pops tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  assert.equal(cells.length, 2, 'one row per POP');
  const col = (name: string): number => {
    const i = headers.indexOf(name);
    assert.ok(i >= 0, `column ${name} in ${headers.join(', ')}`);
    return i;
  };
  const row = (pop: string): string[] => {
    const r = cells.find((c) => c[col('POP')] === pop);
    assert.ok(r, `a row for ${pop}`);
    return r;
  };
  assert.equal(row('calgary-01')[col('Role')], 'primary');
  assert.equal(row('zurich-01')[col('Role')], 'backup');
  assert.equal(row('calgary-01')[col('Backlog')], '7319', 'the primary\'s backlog is shown in its Backlog cell');
  assert.equal(row('zurich-01')[col('Backlog')], '0');
  // The hostile region is shown as text, never as markup.
  assert.equal(row('zurich-01')[col('Region')], HOSTILE);
  assert.equal(await page.$('#pops img'), null, 'no element was created from the value');
  assert.equal(await page.$('#injected'), null);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  const shot = join(fx.dir, 'status-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(readFileSync(shot).length > 1000);
  assert.deepEqual(errors, []);
  // The token is not kept in the URL or in storage.
  assert.ok(!page.url().includes(token));
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
});
