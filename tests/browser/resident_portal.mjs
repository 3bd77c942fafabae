// Browser test: the village doctor issues a resident's portal credentials at the clinic; the
// resident signs in on a phone-sized screen, sees their record and that the village doctor
// looked at it. Run by .ci/run against `yijia serve --demo`.
// Usage: node resident_portal.mjs http://127.0.0.1:PORT
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
  // At the clinic: find a resident of the village and issue the credentials.
  const clinic = await browser.newPage();
  await clinic.goto(`${base}/login`);
  await clinic.fill('input[name=username]', 'village-doctor');
  await clinic.fill('input[name=password]', 'yijia-demo');
  await clinic.click('button[type=submit]');
  await clinic.waitForSelector('text=您好');
  await clinic.goto(`${base}/residents`);
  let found = false;
  for (const surname of ['王', '李', '张', '刘', '陈', '杨']) {
    await clinic.fill('#search input[name=q]', surname);
    await clinic.click('#search button[type=submit]');
    if (await clinic.locator('table tbody tr').count() > 0) { found = true; break; }
  }
  assert.ok(found, 'the village doctor finds a resident');
  const first = clinic.locator('table tbody tr a').first();
  const name = (await first.textContent()).trim();
  await first.click();
  await clinic.waitForSelector('text=健康档案');
  await clinic.click('button:has-text("发放居民端账号")');
  await clinic.waitForSelector('#credentials');
  const username = (await clinic.textContent('#username')).trim();
  const password = (await clinic.textContent('#password')).trim();
  assert.match(password, /^[2-9A-Z]{12}$/);

  // On the resident's phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await phone.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/portal$/);
  assert.equal((await page.textContent('h1')).trim(), '我的健康档案');
  assert.ok(await page.isVisible(`text=${name}`), 'the resident sees their name');
  const accesses = await page.textContent('#accesses');
  assert.match(accesses, /村医/, 'the village doctor\'s look at the record is listed');
  assert.match(accesses, /发放居民端账号/);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 400, `the page fits the phone screen (${width}px)`);
  // The resident cannot open staff pages of other residents.
  const other = await page.goto(`${base}/residents`);
  assert.notEqual(other.status(), 200, 'the resident search is not for residents');
  console.log(`browser test passed: ${name} signed in to the portal`);
} finally {
  await browser.close();
}
