// Browser test of the referral board: the chest pain centre's doctor has the board open; a
// green-channel referral raised at the village from a critical ECG report appears on it live,
// first and already accepted; the doctor records the patient's arrival with one click.
// Usage: node referral_board.mjs http://127.0.0.1:PORT path/to/stemi.json
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const [base, stemiPath] = process.argv.slice(2);
assert.ok(base && stemiPath, 'give the server address and a synthetic STEMI file');

async function api(path, { token, json, ...options } = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) { headers['content-type'] = 'application/json'; options.body = JSON.stringify(json); }
  const response = await fetch(`${base}${path}`, { ...options, headers });
  return { status: response.status, body: await response.json().catch(() => null) };
}
const login = async (username) => (await api('/api/v1/auth/login', { method: 'POST', json: { username, password: 'yijia-demo' } })).body.token;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', 'county-doctor');
  await page.fill('input[name=password]', 'yijia-demo');
  await page.click('main button[type=submit]');
  await page.waitForSelector('text=您好');
  await page.goto(`${base}/referrals`);
  await page.waitForFunction(() => document.body.classList.contains('live'));

  // At the village: a STEMI upload, the county reader's critical report, the green channel.
  const village = await login('village-doctor');
  const reader = await login('county-reader');
  const me = (await api('/api/v1/me', { token: village })).body;
  const residents = (await api(`/api/v1/residents?village_clinic_id=${me.institution_id}&limit=1&offset=3`, { token: village })).body;
  const form = new FormData();
  form.append('resident_id', String(residents.items[0].id));
  form.append('recorded_at', new Date().toISOString());
  form.append('file', new Blob([await readFile(stemiPath)]), 'stemi.json');
  const ecg = (await api('/api/v1/ecgs', { token: village, method: 'POST', body: form })).body;
  assert.equal((await api(`/api/v1/ecgs/${ecg.id}/claim`, { token: reader, method: 'POST' })).status, 200);
  const report = { findings: '', conclusion: '急性下壁心肌梗死', critical: true };
  assert.equal((await api(`/api/v1/ecgs/${ecg.id}/reports`, { token: reader, method: 'POST', json: report })).status, 201);
  const referral = await api(`/api/v1/ecgs/${ecg.id}/green-channel`, { token: village, method: 'POST' });
  assert.equal(referral.status, 201);

  // The board shows it live, first, accepted by rule.
  const first = page.locator('#referrals tbody tr').first();
  await first.waitFor({ timeout: 15000 });
  assert.match(await first.textContent(), /绿色通道/);
  assert.equal((await first.locator('.state').textContent()).trim(), '已接收');
  await first.locator('button', { hasText: '患者到达' }).click();
  await page.waitForSelector('#referrals tbody tr >> nth=0 >> text=已到达');
  console.log('referral board browser test passed');
} finally {
  await browser.close();
}
