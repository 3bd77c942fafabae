// Browser test of the ECG network: the village clinic's inbox and the county reader's worklist
// are open side by side; a synthetic inferior STEMI uploaded at the village appears on the
// worklist live, the reader opens the waveform, claims, signs "急性下壁心肌梗死", and the
// village inbox shows the signed report live; the village acknowledges it.
// Usage: node ecg_reading.mjs http://127.0.0.1:PORT path/to/stemi.json
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const [base, stemiPath] = process.argv.slice(2);
assert.ok(base && stemiPath, 'give the server address and a synthetic STEMI file');

async function api(path, { token, ...options } = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, { ...options, headers });
  return { status: response.status, body: await response.json().catch(() => null) };
}

async function login(page, username) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('main button[type=submit]');
  await page.waitForSelector('text=您好');
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const village = await (await browser.newContext()).newPage();
  const reader = await (await browser.newContext()).newPage();
  await login(village, 'village-doctor');
  await login(reader, 'county-reader');
  await village.goto(`${base}/ecg/inbox`);
  await reader.goto(`${base}/ecg/worklist`);
  await reader.waitForFunction(() => document.body.classList.contains('live'));
  await village.waitForFunction(() => document.body.classList.contains('live'));

  // The village doctor uploads through the API, as the clinic's ECG cart would.
  const token = (await api('/api/v1/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'village-doctor', password: 'yijia-demo' }),
  })).body.token;
  const me = (await api('/api/v1/me', { token })).body;
  const residents = (await api(`/api/v1/residents?village_clinic_id=${me.institution_id}&limit=1`, { token })).body;
  const form = new FormData();
  form.append('resident_id', String(residents.items[0].id));
  form.append('recorded_at', new Date().toISOString());
  form.append('clinical_note', '胸痛 30 分钟');
  form.append('file', new Blob([await readFile(stemiPath)]), 'stemi.json');
  const uploaded = await api('/api/v1/ecgs', { token, method: 'POST', body: form, headers: { 'idempotency-key': 'browser-test-1' } });
  assert.equal(uploaded.status, 201);
  assert.equal(uploaded.body.priority, 'stat');

  // It appears on the worklist without anyone reloading, marked critical.
  const row = reader.locator('#worklist tbody tr').first();
  await row.waitFor({ timeout: 15000 });
  assert.match(await row.textContent(), /危急/);
  await row.locator('a').click();
  await reader.waitForSelector('svg polyline');
  assert.ok(await reader.locator('svg polyline').count() >= 13, '12 leads and a rhythm strip are drawn');
  assert.match(await reader.textContent('#stemi'), /疑似 STEMI/);
  await reader.click('#claim');
  await reader.fill('textarea[name=findings]', '窦性心律，II、III、aVF 导联 ST 段抬高');
  await reader.fill('input[name=conclusion]', '急性下壁心肌梗死');
  await reader.click('#report button[type=submit]');
  await reader.waitForSelector('.conclusion');
  assert.equal(await reader.textContent('.conclusion'), '急性下壁心肌梗死');

  // The village inbox shows the signed report live; the village acknowledges it.
  await village.waitForSelector('text=已签发，待确认', { timeout: 15000 });
  await village.click('#inbox a');
  await village.click('#acknowledge');
  await village.waitForSelector('text=本机构已于');
  console.log('ECG browser test passed');
} finally {
  await browser.close();
}
