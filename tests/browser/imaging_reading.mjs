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

  // The viewer: the current frame drawn, a thumbnail per series, the report beside it.
  await reader.waitForSelector('#viewer:not([hidden])');
  const drawn = () => reader.waitForFunction(() => {
    const img = document.querySelector('#viewer [data-out=image]');
    return img.complete && img.naturalWidth > 0;
  });
  await drawn();
  await reader.waitForFunction(() => [...document.querySelectorAll('#viewer [data-out=thumbnails] img')]
    .every((img) => img.complete && img.naturalWidth > 0));
  assert.ok(await reader.locator('#viewer [data-out=thumbnails] button').count() > 0, 'series thumbnails');
  const beside = await reader.evaluate(() => {
    const images = document.querySelector('.reading-images').getBoundingClientRect();
    const report = document.querySelector('.reading-report').getBoundingClientRect();
    return report.left >= images.right - 1;
  });
  assert.ok(beside, 'the report stands beside the images on a 1366-pixel screen');

  // Scrolling through the series: the wheel and the arrow keys move frame by frame.
  const position = () => reader.textContent('#viewer [data-out=position]');
  const [, total] = (await position()).split(' / ').map(Number);
  assert.ok(total > 1, `a series to scroll through (${total} frames)`);
  await reader.hover('#viewer [data-out=stage]');
  await reader.mouse.wheel(0, 120);
  await reader.waitForFunction(() => document.querySelector('#viewer [data-out=position]').textContent.startsWith('2 /'));
  await reader.keyboard.press('ArrowDown');
  assert.match(await position(), /^3 \//);
  await reader.keyboard.press('ArrowUp');
  assert.match(await position(), /^2 \//);
  await drawn();

  // A window preset re-draws in place, without leaving the page.
  const before = reader.url();
  await reader.click('#windows a[data-window="400,1800"]');
  await reader.waitForFunction(() => document.querySelector('#viewer [data-out=image]').src.includes('window=400%2C1800'));
  await drawn();
  assert.equal(reader.url(), before);
  assert.match(await reader.textContent('#viewer [data-out=window]'), /400,1800/);

  // Invert, zoom, and a distance in mm from the image's pixel spacing.
  await reader.click('#viewer [data-act=invert]');
  assert.ok(await reader.locator('#viewer [data-out=image].inverted').count() === 1);
  await reader.click('#viewer [data-act=zoom-in]');
  await reader.click('#viewer [data-act=measure]');
  const box = await reader.locator('#viewer [data-out=image]').boundingBox();
  await reader.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.5);
  await reader.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.5);
  await reader.waitForFunction(() => /测距：[\d.]+ (mm|像素)/.test(document.querySelector('#viewer [data-out=measurement]').textContent));
  assert.equal(await reader.locator('#viewer [data-out=overlay] line').count(), 1);
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
