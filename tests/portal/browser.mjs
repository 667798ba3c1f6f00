// The Admin Portal in Chromium (headless, driven by playwright-core): the flows an IT admin
// goes through, from the Node SDK's link to the export download and the stream's test event.
//
// Environment (tests/portal/run.sh sets it): AUDITLOG_URL, AUDITLOG_KEY, CHROMIUM,
// AUDITLOG_SDK_NODE_DIR, AUDITLOG_BROWSER_DIR; AUDITLOG_PORTAL_SCREENSHOTS (optional folder).
//
// Prints `PASS portal: …` / `FAIL portal: …` per check and exits 1 if any failed.

import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const baseUrl = process.env.AUDITLOG_URL;
const apiKey = process.env.AUDITLOG_KEY;
const shots = process.env.AUDITLOG_PORTAL_SCREENSHOTS;
const browserDir = process.env.AUDITLOG_BROWSER_DIR;

async function load(prefix, name) {
  const require = createRequire(join(prefix, 'package.json'));
  const packageJson = require.resolve(`${name}/package.json`);
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8'));
  const root = pkg.exports?.['.'];
  const entry = (root && typeof root === 'object' && (root.import?.default ?? root.import)) || pkg.module || pkg.main;
  return import(pathToFileURL(join(dirname(packageJson), typeof entry === 'string' ? entry : pkg.main)).href);
}

const { WorkOS } = await load(process.env.AUDITLOG_SDK_NODE_DIR, '@workos-inc/node');
const { chromium } = await load(browserDir, 'playwright-core');
const axeSource = readFileSync(createRequire(join(browserDir, 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

const url = new URL(baseUrl);
const workos = new WorkOS(apiKey, { apiHostname: url.hostname, port: Number(url.port), https: false });

let passed = 0;
let failed = 0;
function expect(condition, message) {
  if (!condition) throw new Error(message);
}
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`PASS portal: ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL portal: ${name}: ${error.message || error}\n${error.stack || ''}`);
  }
}

async function api(method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function event(action, actor, extra = {}) {
  return {
    action,
    occurredAt: new Date(Date.now() - 60000),
    actor: { id: actor.toLowerCase().replace(/\W+/g, '_'), type: 'user', name: actor },
    targets: [{ id: 'team_core', type: 'team', name: 'Core' }],
    context: { location: '203.0.113.7', userAgent: 'Chrome/131' },
    metadata: { plan: 'enterprise' },
    ...extra,
  };
}

// Two organizations; ours has ordinary events and one whose fields are hostile.
const ours = await workos.organizations.createOrganization({ name: 'Acme Corp' });
const theirs = await workos.organizations.createOrganization({ name: 'Other Corp' });
for (let i = 0; i < 6; i += 1) await workos.auditLogs.createEvent(ours.id, event(i % 2 ? 'document.downloaded' : 'user.signed_in', i % 2 ? 'Ada Lovelace' : 'Grace Hopper'));
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
await workos.auditLogs.createEvent(ours.id, event('user.renamed', HOSTILE, {
  targets: [{ id: 'javascript:window.__pwned=3', type: 'link', name: 'javascript:window.__pwned=4' }],
  metadata: { note: '<a href="javascript:window.__pwned=5">click</a>' },
}));
await workos.auditLogs.createEvent(theirs.id, event('user.signed_in', 'Someone Else'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

// A fresh browser profile with a watch on what must never happen: a script dialog, a page
// error, a CSP refusal (our own pages must not need an exception).
async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.problems = [];
  page.on('dialog', (dialog) => {
    page.problems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 40[34]/.test(message.text())) page.problems.push(`console: ${message.text()}`);
  });
  return page;
}

async function screenshot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

async function axeScan(page, what) {
  // Injected through the DevTools protocol: the portal's CSP refuses inline scripts, as it
  // should, and the scan must not need an exception from it.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const outcome = await window.axe.run(document, { resultTypes: ['violations'] });
    return outcome.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.length === 0, `${what}: ${serious.map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`).join('; ')}`);
}

async function rowsActions(page) {
  return page.locator('#rows tr td[data-label="Action"]').allTextContents();
}

const viewerLink = (await workos.portal.generateLink({ organization: ours.id, intent: 'audit_logs', returnUrl: 'https://app.example/settings' })).link;
const page = await newPage();

await check('the Node SDK link opens the viewer, and the URL no longer holds the token', async () => {
  expect(viewerLink.startsWith(`${baseUrl}/portal/launch?secret=`), viewerLink);
  const response = await page.goto(viewerLink);
  expect(response.status() === 200, `status ${response.status()}`);
  expect(page.url() === `${baseUrl}/portal/audit-logs`, page.url());
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 7);
  expect((await page.locator('#org-name').textContent()) === 'Acme Corp', 'organization name');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'auditlog_portal');
  expect(session && session.httpOnly && session.sameSite === 'Lax', JSON.stringify(cookies));
  expect(await page.evaluate(() => document.cookie) === '', 'the session cookie is out of scripts\u2019 reach');
});

await check('events are listed newest first with time, actor, action, targets and location', async () => {
  const first = page.locator('#rows tr').first();
  expect((await first.locator('td[data-label="Action"]').textContent()) === 'user.renamed', 'newest first');
  const timeTitle = await first.locator('time').getAttribute('title');
  expect(/UTC/.test(timeTitle), `UTC on hover: ${timeTitle}`);
  expect((await first.locator('td[data-label="Location"]').textContent()) === '203.0.113.7', 'location');
  expect((await first.locator('td[data-label="Targets"]').textContent()).includes('link'), 'targets');
  await screenshot(page, 'portal-viewer');
});

await check('an event whose fields hold <script> and javascript: URLs renders as inert text', async () => {
  const actor = await page.locator('#rows tr').first().locator('td[data-label="Actor"]').textContent();
  expect(actor.includes('<script>window.__pwned = 1</script>'), `shown as text: ${actor}`);
  expect(await page.locator('#rows script, #rows img, #rows a').count() === 0, 'no markup from event fields');
  expect(await page.locator('a[href^="javascript:"]').count() === 0, 'no javascript: link');
  await page.locator('#rows tr').first().locator('button.open').click();
  await page.waitForFunction(() => document.getElementById('detail-json').textContent.includes('__pwned'));
  expect(await page.evaluate(() => window.__pwned === undefined), 'no hostile code ran');
  expect(await page.locator('#detail script, #detail img, #detail a').count() === 0, 'no markup in the detail');
  await page.keyboard.press('Escape');
  expect(page.problems.length === 0, page.problems.join('; '));
});

await check('filters narrow the list (actions, actors, target types)', async () => {
  await page.fill('#f-actions', 'document.downloaded');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 3);
  expect((await rowsActions(page)).every((a) => a === 'document.downloaded'), 'only the filtered action');
  await page.fill('#f-actions', '');
  await page.fill('#f-actor-names', 'Grace Hopper');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 3);
  await page.fill('#f-actor-names', '');
  await page.fill('#f-targets', 'link');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 1);
  await page.click('#clear-filters');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 7);
});

await check('the search box finds events by any field', async () => {
  await page.fill('#f-search', 'ada love');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 3);
  expect((await rowsActions(page)).every((a) => a === 'document.downloaded'), 'Ada\u2019s downloads');
  await page.click('#clear-filters');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 7);
});

await check('the event detail shows the full event and "verified", checked in the browser', async () => {
  const row = page.locator('#rows tr').nth(1);
  await row.locator('button.open').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('detail').open);
  await page.waitForFunction(() => document.getElementById('proof-result').dataset.status === 'verified', null, { timeout: 30000 });
  const steps = await page.locator('#proof-steps li').allTextContents();
  expect(steps.some((s) => s.includes('Ed25519 signature verifies')), steps.join(' | '));
  const json = JSON.parse(await page.locator('#detail-json').textContent());
  expect(json.organization_id === ours.id && json.context.location === '203.0.113.7', 'the full event');
  await screenshot(page, 'portal-event-proof');
  await axeScan(page, 'event detail');
  await page.keyboard.press('Escape');
  expect(!(await page.evaluate(() => document.getElementById('detail').open)), 'Escape closes the detail');
});

await check('a tampered proof is reported as FAILED', async () => {
  // The page's own checker, fed the real event with one character changed: the browser, not
  // the server, decides.
  const status = await page.evaluate(async () => {
    const base = Portal.organizationPath('');
    const list = await Portal.api(`${base}/events?limit=1`);
    const event = { ...list.data[0], action: `${list.data[0].action}x` };
    const result = await Proof.check(event, `${base}/events/${list.data[0].id}/inclusion_proof`);
    return result.status;
  });
  expect(status === 'failed', status);
});

await check('live tail shows a new event without a reload', async () => {
  await workos.auditLogs.createEvent(ours.id, event('billing.plan_changed', 'Grace Hopper', { occurredAt: new Date() }));
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#rows td[data-label="Action"]')).some((td) => td.textContent === 'billing.plan_changed'), null, { timeout: 15000 });
});

await check('the export of the current filters downloads the same CSV as the API export', async () => {
  await page.fill('#f-actions', 'user.signed_in, user.renamed');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 4);
  await page.click('#export');
  await page.waitForSelector('#export-download:not([hidden])', { timeout: 30000 });
  const status = await page.locator('#export-status').textContent();
  expect(/Ready: 4 events/.test(status), status);
  await screenshot(page, 'portal-export');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-download')]);
  const portalCsv = readFileSync(await download.path(), 'utf8');
  const created = await workos.auditLogs.createExport({
    organizationId: ours.id,
    rangeStart: new Date('1970-01-01T00:00:00Z'),
    rangeEnd: new Date(Date.now() + 60000),
    actions: ['user.signed_in', 'user.renamed'],
  });
  let exported = created;
  for (let i = 0; i < 100 && exported.state === 'pending'; i += 1) {
    await new Promise((r) => setTimeout(r, 200));
    exported = await workos.auditLogs.getExport(created.id);
  }
  expect(exported.state === 'ready', `API export ${exported.state}`);
  const apiCsv = await (await fetch(exported.url)).text();
  expect(portalCsv === apiCsv, `portal CSV:\n${portalCsv}\nAPI CSV:\n${apiCsv}`);
  expect(portalCsv.trim().split('\n').length === 5, 'a header and four rows');
  await page.click('#clear-filters');
});

await check('a changed organization id in a request gets 404', async () => {
  const statuses = await page.evaluate(async ([other, event]) => {
    const get = (path) => fetch(path).then((r) => r.status);
    return [
      await get(`/portal/api/organizations/${other}/events`),
      await get(`/portal/api/organizations/${other}/log_streams`),
      await get(`/portal/api/organizations/${encodeURIComponent(Portal.session().organization.id)}/events/${event}`),
    ];
  }, [theirs.id, 'audit_log_event_01HZZZZZZZZZZZZZZZZZZZZZZZ']);
  expect(statuses.every((s) => s === 404), statuses.join(','));
});

await check('the viewer passes an axe-core scan and fits a 360 px screen', async () => {
  await axeScan(page, 'viewer');
  const narrow = await newPage({ width: 360, height: 740 });
  const link = (await workos.portal.generateLink({ organization: ours.id, intent: 'audit_logs' })).link;
  await narrow.goto(link);
  await narrow.waitForFunction(() => document.querySelectorAll('#rows tr').length > 0);
  const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, `${overflow} px wider than the screen`);
  expect(!(await narrow.isVisible('#f-search')), 'the filters start folded on a phone');
  await screenshot(narrow, 'portal-viewer-360');
  await narrow.click('#filter-panel summary');
  expect(await narrow.isVisible('#f-search'), 'and open on a tap');
  await axeScan(narrow, 'viewer at 360 px');
  await narrow.context().close();
});

await check('a reused link and an expired link are refused', async () => {
  const again = await newPage();
  const response = await again.goto(viewerLink);
  expect(response.status() === 403, `reused: ${response.status()}`);
  expect((await again.locator('h1').textContent()).includes('cannot be used'), 'says why');
  const stale = (await workos.portal.generateLink({ organization: ours.id, intent: 'audit_logs' })).link;
  await new Promise((r) => setTimeout(r, 5500)); // this server's links last 5 s
  const late = await again.goto(stale);
  expect(late.status() === 403, `expired: ${late.status()}`);
  await again.context().close();
});

await check('signing out ends the session', async () => {
  const other = await newPage();
  await other.goto((await workos.portal.generateLink({ organization: ours.id, intent: 'audit_logs' })).link);
  await other.waitForSelector('#rows tr');
  await other.click('#sign-out');
  await other.waitForURL(`${baseUrl}/portal/signed-out`);
  const back = await other.goto(`${baseUrl}/portal/audit-logs`);
  expect(back.status() === 401, `after sign-out: ${back.status()}`);
  await other.context().close();
});

// A receiver that checks the Standard Webhooks signature of what it is sent.
const received = [];
let receiverSecret = '';
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => { body += chunk; });
  request.on('end', () => {
    const id = request.headers['webhook-id'];
    const timestamp = request.headers['webhook-timestamp'];
    const key = Buffer.from(receiverSecret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    const signatures = String(request.headers['webhook-signature'] || '').split(' ').map((s) => s.replace(/^v1,/, ''));
    const valid = signatures.includes(expected);
    received.push({ valid, body });
    response.writeHead(valid ? 200 : 401, { 'Content-Type': 'text/plain' });
    response.end(valid ? 'accepted by the test receiver' : 'bad signature');
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const hook = `http://127.0.0.1:${receiver.address().port}/hook`;

await check('the streams page creates a GenericHttps stream whose test event reaches the receiver', async () => {
  const streams = await newPage();
  const { link } = await workos.portal.generateLink({ organization: ours.id, intent: 'log_streams', successUrl: 'https://app.example/done' });
  await streams.goto(link);
  expect(streams.url() === `${baseUrl}/portal/log-streams`, streams.url());
  await streams.waitForSelector('#streams p');
  // Validation first: nothing is sent with the required fields empty.
  await streams.click('#new-stream button[type=submit]');
  const errors = await streams.locator('.field-error').allTextContents();
  expect(errors.some((e) => e.includes('Endpoint URL is required')), errors.join(' | '));
  await streams.fill('#s-settings-url', 'not a url');
  await streams.click('#new-stream button[type=submit]');
  expect((await streams.locator('.field-error').allTextContents()).some((e) => e.includes('must be a URL')), 'URL check');
  await streams.fill('#s-settings-url', hook);
  await streams.click('text=Generate a secret');
  receiverSecret = await streams.inputValue('#s-secrets-signing_secret');
  expect(receiverSecret.startsWith('whsec_'), receiverSecret);
  await screenshot(streams, 'portal-streams-form');
  await streams.click('#new-stream button[type=submit]');
  await streams.waitForSelector('article.stream');
  expect(await streams.locator('#success-link').getAttribute('href') === 'https://app.example/done', 'success link');
  await streams.click('article.stream button.test');
  await streams.waitForFunction(() => document.querySelector('article.stream .test-result').dataset.delivered === 'true', null, { timeout: 20000 });
  const result = await streams.locator('article.stream .test-result').textContent();
  expect(result.includes('HTTP 200') && result.includes('accepted by the test receiver'), result);
  const test = received.find((r) => r.body.includes('auditlog.log_stream.test'));
  expect(test && test.valid, `the receiver got a correctly signed test event: ${JSON.stringify(received)}`);
  await screenshot(streams, 'portal-streams');
  await axeScan(streams, 'streams page');
  await streams.click('article.stream button:has-text("Pause")');
  await streams.waitForSelector('article.stream .badge.inactive');
  await streams.click('article.stream button:has-text("Resume")');
  await streams.waitForSelector('article.stream .badge.active');
  const listed = await api('GET', `/organizations/${ours.id}/log_streams`);
  expect(listed.data.length === 1 && listed.data[0].settings.url === hook && !listed.data[0].paused, JSON.stringify(listed));
  const narrowOverflow = await (async () => {
    await streams.setViewportSize({ width: 360, height: 740 });
    return streams.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  })();
  expect(narrowOverflow <= 0, `streams page ${narrowOverflow} px wider than 360 px`);
  expect(streams.problems.length === 0, streams.problems.join('; '));
  await streams.context().close();
});

await check('no page error, dialog or CSP refusal on the viewer', async () => {
  expect(page.problems.length === 0, page.problems.join('; '));
});

await browser.close();
receiver.close();
console.log(`[portal] done: passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
