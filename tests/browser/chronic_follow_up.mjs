// Browser test: the village doctor works the chronic call list from the home page. Each
// overdue patient is opened from the list; the follow-up form (pre-filled from the last visit)
// shows the rules' decision as the values are typed; saved, the patient leaves the list, until
// the list and the home page's queue are empty. Then a resident due for hypertension screening
// is measured in the screening list's row and leaves it. Screenshots go to target/screenshots/.
// Usage: node chronic_follow_up.mjs http://127.0.0.1:PORT
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

try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', 'village-doctor');
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=您好');

  // The home page's queue names the overdue patients and leads to the call list.
  const queued = await page.locator('#chronic-overdue tbody tr').count();
  assert.ok(queued > 0, 'the demo village has overdue patients on the home page');
  await page.click('#chronic-overdue a:has-text("全部")');
  await page.waitForSelector('h1:has-text("慢病随访")');
  await page.screenshot({ path: 'target/screenshots/chronic-overdue.png', fullPage: true });

  let left = await page.locator('#overdue tbody tr').count();
  assert.ok(left > 0, 'the call list has the overdue patients');
  const started = left;
  while (left > 0) {
    await page.click('#overdue tbody tr >> nth=0 >> a');
    await page.waitForSelector('#follow-up');
    const diabetes = await page.locator('#follow-up input[name=fpg_mmol]').count() > 0;
    await page.check('#follow-up input[name=mode][value=clinic]');
    for (const box of await page.locator('#follow-up input[name=symptoms]:checked').all()) {
      await box.uncheck();
    }
    await page.uncheck('#follow-up input[name=adverse_reaction]');
    await page.uncheck('#follow-up input[name=complication]');
    await page.check('#follow-up input[name=adherence][value=regular]');
    await page.fill('#follow-up input[name=sbp]', '128');
    await page.fill('#follow-up input[name=dbp]', '78');
    if (diabetes) {
      await page.fill('#follow-up input[name=fpg_mmol]', '6.2');
    }
    // The server's decision, as typed: satisfactory control, a routine visit.
    await page.waitForSelector('#decision >> text=控制满意', { timeout: 5000 }).catch(async (e) => {
      throw new Error(`no decision: ${await page.textContent('#decision')} at ${page.url()}`);
    });
    assert.match(await page.textContent('#decision'), /下一步 1 常规随访/);
    if (started === left) {
      await page.screenshot({ path: 'target/screenshots/chronic-follow-up-form.png', fullPage: true });
    }
    await page.click('#follow-up button[type=submit]');
    await page.waitForSelector('#history');
    assert.match(await page.textContent('table'), /1 控制满意/, 'the visit is in the history');

    await page.goto(`${base}/chronic/overdue`);
    const now = await page.locator('#overdue tbody tr').count();
    assert.equal(now, left - 1, 'the patient followed up leaves the call list');
    left = now;
  }
  assert.ok(await page.isVisible('#overdue-empty'), 'the call list says it is empty');

  await page.goto(`${base}/`);
  assert.equal(await page.locator('#chronic-overdue tbody tr').count(), 0, 'the home queue is empty');
  assert.ok(await page.isVisible('#chronic-overdue >> text=没有逾期未随访的慢病患者'));
  await page.screenshot({ path: 'target/screenshots/home-village-doctor-after-calls.png', fullPage: true });

  // Screening: a normal reading typed in a row takes the resident off the list.
  await page.click('header a[href="/chronic/screening"]');
  await page.waitForSelector('#screening');
  await page.screenshot({ path: 'target/screenshots/chronic-screening.png', fullPage: true });
  const row = page.locator('#screening tbody tr >> nth=0');
  const resident = await row.getAttribute('data-resident');
  await row.locator('input[name=sbp]').fill('122');
  await row.locator('input[name=dbp]').fill('76');
  await row.locator('button:has-text("记录")').click();
  await page.waitForSelector('#screening-total');
  assert.equal(await page.locator(`#screening tr[data-resident="${resident}"]`).count(), 0,
    'the resident measured leaves the screening list');
  console.log(`chronic follow-up: ${started} overdue patients followed up from the call list`);
} finally {
  await browser.close();
}
