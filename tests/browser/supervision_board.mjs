// Browser test: a supervision alert from the board to verification. The township centre's
// doctor finds a new alert of their centre on the board; the insurance officer confirms it and
// calls the centre in with a due date; the centre rectifies and submits its measures — the
// officer's open page updates by itself — and the officer verifies (or, when the rule still
// finds cases in the next month, reopens). Screenshots go to target/screenshots/.
// Usage: node supervision_board.mjs http://127.0.0.1:PORT
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
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=您好');
  return page;
}

/// Takes the step whose form moves the alert `to` a state, filling what it asks for.
async function step(page, to, fields = {}) {
  const form = page.locator(`form.step:has(input[name=to][value=${to}])`);
  for (const [name, value] of Object.entries(fields)) {
    await form.locator(`input[name=${name}]`).fill(value);
  }
  await Promise.all([page.waitForLoadState('load'), form.locator('button').click()]);
}

try {
  // The centre's doctor: the home page has the centre's queue; the board shows its alerts only.
  const centre = await signIn('township-doctor');
  await centre.waitForSelector('#supervision');
  await centre.goto(`${base}/supervision?state=new`);
  const row = centre.locator('#alerts tbody tr').first();
  await row.waitFor();
  const id = await row.getAttribute('data-alert');
  assert.ok(id, 'a new alert of the centre is on its board');
  const institution = await row.locator('td').nth(1).textContent();
  for (const cell of await centre.locator('#alerts tbody tr td:nth-child(2)').allTextContents()) {
    assert.equal(cell, institution, 'the centre sees its own alerts only');
  }

  // The office: the board with the rectification rate, then the alert's page.
  const office = await signIn('insurance-officer');
  await office.goto(`${base}/supervision`);
  assert.match(await office.textContent('#rectification-rate'), /整改率/);
  assert.ok(await office.locator('#by-rule tbody tr').count() > 0, 'counts by rule');
  await office.screenshot({ path: 'target/screenshots/supervision-board.png', fullPage: true });
  await office.click(`#alerts tr[data-alert="${id}"] a`);
  await office.waitForSelector('#alert-state:has-text("新预警")');
  await step(office, 'confirmed');
  await office.waitForSelector('#alert-state:has-text("初审确认")');
  // Assigning without a due date is refused in Chinese; with one, the centre is called in.
  await step(office, 'assigned', { note: '约谈院长' });
  await office.waitForSelector('text=请填写整改期限');
  const due = new Date(Date.now() + 30 * 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 10);
  await step(office, 'assigned', { note: '约谈院长，限期一个月整改', due_on: due });
  await office.waitForSelector('#alert-state:has-text("已约谈，待整改")');

  // The centre rectifies and submits; the officer's page follows by itself.
  await centre.goto(`${base}/supervision/alerts/${id}`);
  await step(centre, 'rectifying');
  await centre.waitForSelector('#alert-state:has-text("整改中")');
  await step(centre, 'submitted', { note: '修订收住院标准，全员培训', refund_yuan: '0' });
  await centre.waitForSelector('#alert-state:has-text("整改已提交")');
  await office.waitForSelector('#alert-state:has-text("整改已提交")', { timeout: 10000 });

  // Verification runs the rule again on the next period.
  await step(office, 'verified');
  const refused = await office.locator('text=不能核实').count() > 0;
  if (refused) {
    await step(office, 'reopened', { note: '下月仍有同类问题' });
    await office.waitForSelector('#alert-state:has-text("重新整改")');
  } else {
    await office.waitForSelector('#alert-state:has-text("整改已核实")');
  }
  const steps = await office.locator('#steps tbody tr').count();
  assert.equal(steps, 5, 'every step is on the timeline');
  await office.screenshot({ path: 'target/screenshots/supervision-alert.png', fullPage: true });
  console.log(`supervision board: alert ${id} ${refused ? 'reopened' : 'verified'} after ${steps} steps`);
} finally {
  await browser.close();
}
