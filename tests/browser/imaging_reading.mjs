// Browser test: the imaging centre's reader finds the township's studies on the home page and
// the worklist (STAT first), opens one and sees its images drawn, claims it and signs a
// report; the township centre's doctor sees the report in their list and acknowledges it.
// Screenshots go to target/screenshots/.
// Usage: node imaging_reading.mjs http://127.0.0.1:PORT
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base] = process.argv.slice(2);
assert.ok(base, 'give the server address');
mkdirSync('target/screenshots', { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function signIn(username) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=您好');
  return page;
}

try {
  const reader = await signIn('imaging-reader');
  await reader.waitForSelector('#imaging-worklist');
  assert.ok(await reader.locator('header a[href="/imaging/worklist"]').count() > 0, 'the menu has the worklist');
  assert.equal(await reader.locator('header a[href="/ecg/worklist"]').count(), 0, 'not the ECG worklist');
  await reader.goto(`${base}/imaging/worklist`);
  const first = reader.locator('#worklist tbody tr').first();
  assert.match(await first.textContent(), /危急/, 'STAT first');
  await Promise.all([reader.waitForLoadState('load'), first.locator('a').click()]);

  // Every image is drawn: each <img> decodes to a picture of its own size.
  const images = reader.locator('.frames img');
  assert.ok(await images.count() > 0, 'the study has images');
  await reader.waitForFunction(() => [...document.querySelectorAll('.frames img')]
    .every((img) => img.complete && img.naturalWidth > 0));
  await reader.screenshot({ path: 'target/screenshots/imaging-study.png', fullPage: true });

  await Promise.all([reader.waitForLoadState('load'), reader.click('#claim')]);
  await reader.fill('textarea[name=findings]', '脑实质密度均匀，脑室系统未见扩大，中线结构居中。');
  await reader.fill('input[name=conclusion]', '头颅 CT 平扫未见明显异常');
  await Promise.all([reader.waitForLoadState('load'), reader.click('#report button[type=submit]')]);
  assert.match(await reader.textContent('.report'), /头颅 CT 平扫未见明显异常/);
  const study = reader.url();

  const site = await signIn('township-doctor');
  await site.goto(`${base}/imaging/inbox`);
  assert.match(await site.textContent('#inbox'), /已签发，待确认/);
  await site.goto(study);
  await Promise.all([site.waitForLoadState('load'), site.click('#acknowledge')]);
  assert.match(await site.textContent('body'), /本机构已于 .* 确认收到/);
  await site.screenshot({ path: 'target/screenshots/imaging-acknowledged.png', fullPage: true });
  console.log('imaging reading: ok');
} finally {
  await browser.close();
}
