// Browser test: the health bureau's supervisor opens the indicator dashboard, sees the five
// dimensions with numerators and denominators, the charts, the "no data" notes, one indicator
// across every member institution, and drills down to one institution. Run by .ci/run against
// `yijia serve --demo`.
// Usage: node dashboard.mjs http://127.0.0.1:PORT
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
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', 'supervisor');
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=您好');
  await page.click('a[href="/indicators"]');
  await page.waitForSelector('h1:has-text("监测指标")');
  for (const dimension of ['紧密型', '同质化', '促分工', '提效能', '保健康', '县域指标', '胸痛中心']) {
    assert.ok(await page.isVisible(`h2:has-text("${dimension}")`), `${dimension} is shown`);
  }
  assert.equal(await page.locator('svg.chart').count(), 3, 'three trend charts');
  const premature = await page.textContent('tr[data-code="5.2"]');
  assert.match(premature, /尚无死亡登记数据/, 'no made-up number where there is no data');
  const coverage = await page.textContent('tr[data-code="2.2b"]');
  assert.match(coverage, /%/);

  // One indicator across every member institution, from its code.
  await page.click('tr[data-code="3.1"] a');
  await page.waitForSelector('#breakdown');
  assert.ok(await page.locator('#breakdown tr[data-institution]').count() > 3, 'every member is listed');
  assert.match(await page.textContent('#breakdown tr.county'), /全县/);
  await page.goBack();
  await page.waitForSelector('h1:has-text("监测指标")');

  // Drill down to one village clinic.
  const options = page.locator('select[name=institution] option');
  let village = null;
  for (let i = 0; i < await options.count(); i++) {
    const text = await options.nth(i).textContent();
    if (text.includes('卫生室')) { village = await options.nth(i).getAttribute('value'); break; }
  }
  assert.ok(village, 'a village clinic can be chosen');
  await page.selectOption('select[name=institution]', village);
  await page.click('#filter button[type=submit]');
  await page.waitForURL(new RegExp(`institution=${village}`));
  const villageCoverage = await page.textContent('tr[data-code="2.2b"] td:nth-child(5)');
  assert.equal(villageCoverage.trim(), '1', 'one village clinic in its own catchment');
  console.log('dashboard browser test passed');
} finally {
  await browser.close();
}
