// Browser test: each role starts from its work queue (a screenshot of every home page at
// 1366×768 goes to target/screenshots/); the village doctor registers a resident and uploads
// an ECG through the file picker, and the reader's queue shows it, STAT first; the reader
// signs it from the queue; the village doctor writes a referral (diagnosis found by its
// Chinese name) and prints its slip; the county doctor sees it arrive live and receives it;
// the township doctor finds the resident by pinyin initials and records a visit; files dropped
// on the upload area are taken; the supervisor sees what is off target; the administrator
// opens an account.
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
    'admin': { has: ['/staff', '/residents/duplicates', '/institutions'], not: ['/budget', '/ecg/worklist'] },
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
  await village.fill('input[name=id_number]', '110105194912310021');
  assert.match(await village.textContent('output[data-id-number-for=id_number]'), /校验码不符/, 'checked as typed');
  await village.fill('input[name=id_number]', '11010519491231002X');
  assert.match(await village.textContent('output[data-id-number-for=id_number]'), /1949-12-31，女/);
  await village.fill('input[name=name]', '浏览器测');
  await village.fill('input[name=phone]', '13800003333');
  await village.click('#register button[type=submit]');
  await village.waitForSelector('h1:has-text("浏览器测")');
  const residentUrl = new URL(village.url()).pathname;
  assert.ok(await village.isVisible('text=1949-12-31'), 'birth date from the ID number');
  // Files dropped on the upload area become the form's files, named beside it.
  await village.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(['a'], 'cart.hea'));
    data.items.add(new File(['b'], 'cart.dat'));
    const zone = document.querySelector('[data-drop-for]');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  });
  assert.equal(await village.evaluate(() => document.getElementById('ecg-file').files.length), 2, 'dropped files taken');
  assert.match(await village.textContent('output[data-drop-list]'), /cart\.hea、cart\.dat/);
  await village.setInputFiles('#ecg-upload input[type=file]', ecgFile);
  // The synthetic file states no recording time: the doctor gives it (China Standard Time).
  const now = new Date(Date.now() + 8 * 3600 * 1000 - 60 * 1000).toISOString().slice(0, 16);
  await village.fill('#ecg-upload input[name=recorded_at]', now);
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

  // The reader signs it from the queue.
  await reader.click('#ecg-worklist a:has-text("浏览器测")');
  await reader.click('#claim');
  await reader.fill('textarea[name=findings]', '窦性心律，II、III、aVF 导联 ST 段抬高');
  await reader.fill('input[name=conclusion]', '急性下壁心肌梗死');
  await reader.click('#report button[type=submit]');
  await reader.waitForSelector('.conclusion');

  // The village doctor writes a referral from the resident page, finding the diagnosis by name.
  await village.goto(`${base}${residentUrl}`);
  await village.click('#resident-actions a:has-text("写转诊单")');
  await village.fill('input[data-filter=to]', '胸痛');
  const receiver = await village.locator('#to option:not([hidden])').filter({ hasText: '胸痛' }).first().getAttribute('value');
  await village.selectOption('#to', receiver);
  await village.fill('input[name=diagnosis]', '下壁');
  await village.waitForFunction(() => document.querySelectorAll('#icd10-options option').length > 0);
  const offered = await village.getAttribute('#icd10-options option >> nth=0', 'value');
  assert.match(offered, /^I21\.1 /, 'the lookup offers the code by its Chinese name');
  await village.fill('input[name=diagnosis]', offered);
  await village.fill('textarea[name=reason]', '胸痛 1 小时，心电图示下壁 ST 段抬高');
  await village.selectOption('select[name=urgency]', 'emergency');
  await village.selectOption('select[name=green_channel]', 'chest_pain');
  await village.selectOption('select[name=ecg_id]', { index: 1 });
  await village.click('#referral button[type=submit]');
  await village.waitForSelector('text=待接收');
  const referralUrl = new URL(village.url()).pathname;
  await village.click('a:has-text("打印转诊单")');
  await village.waitForSelector('#slip svg');
  await village.emulateMedia({ media: 'print' });
  await village.screenshot({ path: 'target/screenshots/referral-slip-print.png', fullPage: true });
  await village.emulateMedia({ media: 'screen' });

  // The county doctor sees it arrive on the work queue without a reload, and receives it.
  const county = await login('county-doctor');
  await county.waitForFunction(() => document.body.classList.contains('live'));
  await county.waitForSelector('#referrals >> text=浏览器测', { timeout: 15000 });
  await county.click(`#referrals a[href="${referralUrl}"]`);
  await county.click('#step-accepted');
  await county.waitForSelector('text=已接收');

  // The township doctor finds the resident by pinyin initials and records a visit.
  const township = pages['township-doctor'];
  await township.goto(`${base}/residents`);
  await township.fill('#search input[name=q]', 'llqc');
  await township.click('#search button[type=submit]');
  await township.click('td a:has-text("浏览器测")');
  await township.click('#resident-actions a:has-text("记录就诊")');
  await township.fill('input[name=diagnosis1]', 'I10');
  await township.fill('input[name=drugs]', '35.5');
  await township.fill('input[name=tests]', '12');
  await township.click('#visit button[type=submit]');
  await township.waitForSelector('#costs');
  assert.match(await township.textContent('#costs'), /47\.50/);
  // The supervisor's queue names what is off target; the administrator opens an account.
  const supervisor = pages['supervisor'];
  assert.ok(await supervisor.isVisible('#off-target'), 'the off-target queue');
  const admin = pages['admin'];
  await admin.click('header a[href="/staff"]');
  await admin.click('#new-account summary');
  await admin.fill('#account input[name=username]', 'browser-nurse');
  await admin.fill('#account input[name=name]', '浏览器护士');
  await admin.fill('#account input[name=password]', 'a-long-password-2');
  await admin.selectOption('#account select[name=institution_id]', { index: 1 });
  await admin.check('#account input[value=doctor]');
  await admin.click('#account button[type=submit]');
  await admin.waitForSelector('#created');
  assert.match(await admin.textContent('#accounts'), /browser-nurse/);
  console.log('workbench browser test passed');
} finally {
  await browser.close();
}
