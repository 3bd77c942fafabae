// Browser test: each role starts from its work queue (a screenshot of every home page at
// 1366×768 goes to target/screenshots/); the village doctor registers a resident and uploads
// an ECG through the file picker, and the reader's queue shows it, STAT first.
// Usage: node workbench.mjs http://127.0.0.1:PORT ECG_FILE
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, ecgFile] = process.argv.slice(2);
assert.ok(base && ecgFile, 'give the server address and an ECG file');
mkdirSync('target/screenshots', { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function login(username) {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=您好');
  await page.screenshot({ path: `target/screenshots/home-${username}.png`, fullPage: true });
  return page;
}

try {
  // Menus: only what the role may use.
  const menus = {
    'village-doctor': { has: ['/residents', '/ecg/inbox', '/referrals'], not: ['/budget', '/ecg/worklist'] },
    'township-doctor': { has: ['/residents', '/referrals'], not: ['/claims'] },
    'county-reader': { has: ['/ecg/worklist'], not: ['/budget', '/critical-values'] },
    'insurance-officer': { has: ['/budget', '/claims', '/dip'], not: ['/ecg/worklist', '/critical-values'] },
    'supervisor': { has: ['/indicators'], not: ['/ecg/worklist'] },
  };
  const pages = {};
  for (const [user, menu] of Object.entries(menus)) {
    const page = await login(user);
    pages[user] = page;
    for (const href of menu.has) {
      assert.ok(await page.locator(`header a[href="${href}"]`).count() > 0, `${user} has ${href}`);
    }
    for (const href of menu.not) {
      assert.equal(await page.locator(`header a[href="${href}"]`).count(), 0, `${user} lacks ${href}`);
    }
  }

  // The village doctor registers a resident from the work queue's action, then uploads.
  const village = pages['village-doctor'];
  await village.click('a[href="/residents/new"]');
  await village.fill('input[name=id_number]', '11010519491231002X');
  await village.fill('input[name=name]', '浏览器测');
  await village.fill('input[name=phone]', '13800003333');
  await village.click('#register button[type=submit]');
  await village.waitForSelector('h1:has-text("浏览器测")');
  assert.ok(await village.isVisible('text=1949-12-31'), 'birth date from the ID number');
  await village.setInputFiles('#ecg-upload input[type=file]', ecgFile);
  await village.fill('#ecg-upload input[name=clinical_note]', '胸痛 1 小时');
  await village.click('#ecg-upload button[type=submit]');
  await village.waitForSelector('text=一家自动分析');
  assert.ok(await village.isVisible('#stemi'), 'the automatic analysis at once');

  // The reader's work queue shows it, STAT first, without a reload by hand (live).
  const reader = pages['county-reader'];
  await reader.waitForSelector('#ecg-worklist >> text=浏览器测', { timeout: 15000 });
  const first = await reader.textContent('#ecg-worklist tbody tr >> nth=0');
  assert.ok(first.includes('急'), 'a STAT item leads the queue');
  await reader.screenshot({ path: 'target/screenshots/home-county-reader-after-upload.png', fullPage: true });
} finally {
  await browser.close();
}
