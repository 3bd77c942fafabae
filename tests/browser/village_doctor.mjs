// Browser test: the village doctor logs in, searches for a resident of their village by name,
// opens the record and sees who looked at it. Run by .ci/run against `yijia serve --demo`.
// Usage: node village_doctor.mjs http://127.0.0.1:PORT
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.argv[2];
assert.ok(base, 'give the server address');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/residents`);
  assert.match(page.url(), /\/login$/, 'an anonymous visitor is sent to the login page');

  await page.fill('input[name=username]', 'village-doctor');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('[role=alert]'), /用户名或密码错误/);

  await page.fill('input[name=username]', 'village-doctor');
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=您好');

  await page.click('a[href="/residents"]');
  // Any surname will do: search by the first character of the common ones until one matches.
  let found = false;
  for (const surname of ['王', '李', '张', '刘', '陈', '杨']) {
    await page.fill('#search input[name=q]', surname);
    await page.click('#search button[type=submit]');
    if (await page.locator('table tbody tr').count() > 0) { found = true; break; }
  }
  assert.ok(found, 'the village doctor finds residents of their village');
  const first = page.locator('table tbody tr a').first();
  const name = (await first.textContent()).trim();
  await first.click();
  await page.waitForSelector('h1');
  assert.equal((await page.textContent('h1')).trim(), name);
  assert.ok(await page.isVisible('text=谁查看过此档案'));
  assert.ok(await page.isVisible('td:has-text("查看档案")'), 'the reading is listed as an access');

  await page.click('a[href="/institutions"]');
  assert.ok(await page.isVisible('text=县总医院'));
  console.log(`browser test passed: found and opened ${name}`);
} finally {
  await browser.close();
}
