// SDK conformance checks for audit-log exports: the official WorkOS Node SDK
// (@workos-inc/node@8.13.0) against an auditlog server.
//
// Flow: create an organization, send events with the SDK, createExport with
// filters, poll getExport until ready, download the url with plain fetch (no
// API key, as a browser would), parse the CSV and check its rows.
//
// Environment:
//   AUDITLOG_URL          base URL of the server, e.g. http://127.0.0.1:8080 (required)
//   AUDITLOG_KEY          an API key the server accepts (required)
//   AUDITLOG_SDK_NODE_DIR npm prefix holding the SDK (default: <repo>/.sdk/node)
//
// Prints one `PASS node-exports: <check>` or `FAIL node-exports: <check>: <reason>`
// line per check and exits 1 if any check failed.

import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SUITE = 'node-exports';
const UNKNOWN_ORG = 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const UNKNOWN_EXPORT = 'audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const HEADER = [
  'occurred_at', 'action', 'version', 'actor_id', 'actor_type', 'actor_name',
  'actor_metadata', 'context_location', 'context_user_agent', 'metadata',
];
const MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const here = dirname(fileURLToPath(import.meta.url));
const sdkPrefix = resolve(process.env.AUDITLOG_SDK_NODE_DIR || join(here, '..', '..', '..', '.sdk', 'node'));

const baseUrl = (process.env.AUDITLOG_URL || '').trim();
const apiKey = (process.env.AUDITLOG_KEY || '').trim();
if (!baseUrl || !apiKey) {
  console.log(`FAIL ${SUITE}: setup: AUDITLOG_URL and AUDITLOG_KEY must be set`);
  process.exit(1);
}

async function loadSdk() {
  const require = createRequire(join(sdkPrefix, 'package.json'));
  const pkgJsonPath = require.resolve('@workos-inc/node/package.json');
  const pkg = JSON.parse(readFileSync(pkgJsonPath, 'utf8'));
  const root = pkg.exports?.['.'];
  const entry = (root && typeof root === 'object' && root.import) || pkg.module || pkg.main;
  const mod = await import(pathToFileURL(join(dirname(pkgJsonPath), entry)).href);
  return { mod, version: pkg.version };
}

const { mod: sdk, version: sdkVersion } = await loadSdk();
const { WorkOS, NotFoundException } = sdk;
console.log(`[${SUITE}] @workos-inc/node ${sdkVersion}`);

const url = new URL(baseUrl);
const workos = new WorkOS(apiKey, {
  apiHostname: url.hostname,
  port: url.port ? Number(url.port) : undefined,
  https: url.protocol === 'https:',
  timeout: 30000,
});
const RUN = randomBytes(4).toString('hex');

// ------------------------------------------------------------------ harness

let passed = 0;
let failed = 0;
const state = {};

class CheckFailed extends Error {}

function expect(cond, msg) {
  if (!cond) throw new CheckFailed(msg);
}

function need(key) {
  if (!(key in state)) throw new CheckFailed(`skipped: depends on an earlier check that did not produce '${key}'`);
  return state[key];
}

function describeErr(e) {
  if (!e || typeof e !== 'object') return String(e);
  const parts = [`${e.constructor?.name ?? 'Error'}`];
  for (const k of ['status', 'code', 'message', 'requestID', 'rawData', 'errors']) {
    if (e[k] !== undefined && e[k] !== '') parts.push(`${k}=${JSON.stringify(e[k])}`);
  }
  if (e.cause) parts.push(`cause=${describeErr(e.cause)}`);
  return parts.join(' ');
}

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`PASS ${SUITE}: ${name}`);
  } catch (e) {
    failed += 1;
    if (e instanceof CheckFailed) console.log(`FAIL ${SUITE}: ${name}: ${e.message}`);
    else console.log(`FAIL ${SUITE}: ${name}: unexpected ${describeErr(e)}`);
    if (process.env.AUDITLOG_SDK_VERBOSE && !(e instanceof CheckFailed)) console.error(e);
  }
}

async function expectRejects(cls, name, promiseFn, what) {
  let result;
  try {
    result = await promiseFn();
  } catch (e) {
    const ok = (cls && e instanceof cls) || e?.constructor?.name === name || e?.name === name;
    if (!ok) throw new CheckFailed(`${what}: expected ${name}, got ${describeErr(e)}`);
    return e;
  }
  throw new CheckFailed(`${what}: expected ${name}, call succeeded with ${JSON.stringify(result)}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sameJson = (a, b) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** RFC 4180: quoted fields, doubled quotes, CRLF or LF row ends. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { /* the \n ends the row */ }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

async function waitReady(id) {
  let exp = await workos.auditLogs.getExport(id);
  for (let i = 0; i < 200 && exp.state === 'pending'; i++) {
    await sleep(50);
    exp = await workos.auditLogs.getExport(id);
  }
  expect(exp.state === 'ready', `state=${JSON.stringify(exp.state)} after polling`);
  expect(typeof exp.url === 'string' && exp.url, `ready export has url=${JSON.stringify(exp.url)}`);
  return exp;
}

async function downloadRows(link) {
  const res = await fetch(link); // no Authorization header
  const body = await res.text();
  expect(res.status === 200, `download status ${res.status}: ${body.slice(0, 200)}`);
  expect(res.headers.get('content-type') === 'text/csv; charset=utf-8', `content-type=${res.headers.get('content-type')}`);
  const records = parseCsv(body);
  expect(records.length > 0, 'empty file: no header row');
  const width = records[0].length;
  expect(records.every((r) => r.length === width), 'rows of different widths');
  return { header: records[0], rows: records.slice(1), res };
}

async function exportRows(filters = {}) {
  const org = need('org');
  const [rangeStart, rangeEnd] = need('window');
  const exp = await workos.auditLogs.createExport({ organizationId: org.id, rangeStart, rangeEnd, ...filters });
  const ready = await waitReady(exp.id);
  return downloadRows(ready.url);
}

const tags = ({ header, rows }) => {
  const column = header.indexOf('metadata');
  return rows.map((r) => JSON.parse(r[column]).tag);
};

// ------------------------------------------------------------------ setup

// [tag, action, actor id, actor name, targets]
const EVENTS = [
  ['e1', 'doc.viewed', 'user_1', 'Ann Lee', [['doc_1', 'document']]],
  ['e2', 'doc.edited', 'user_2', 'Bob, "the" builder', [['doc_1', 'document'], ['team_1', 'team']]],
  ['e3', 'doc.viewed', 'user_2', 'Bob, "the" builder', [['team_1', 'team']]],
  ['e4', '+cmd|calc', 'user_3', 'Zoë 中文 🎉\nsecond line', []],
];

await check('setup: organization and events sent with the SDK', async () => {
  const org = await workos.organizations.createOrganization({ name: `Exports Node ${RUN}` });
  state.org = org;
  const base = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * 3600 * 1000);
  state.window = [base, new Date(base.getTime() + 3600 * 1000)];
  for (const [i, [tag, action, id, name, targets]] of EVENTS.entries()) {
    await workos.auditLogs.createEvent(org.id, {
      action,
      occurredAt: new Date(base.getTime() + 10_000 * (EVENTS.length - i)), // reverse time order
      actor: { id, type: 'user', name, metadata: { n: i } },
      targets: targets.map(([tid, type]) => ({ id: tid, type })),
      context: { location: '10.0.0.1', userAgent: 'node-exports' },
      metadata: { tag, note: 'a, b "c"\nd' },
    });
  }
  // Outside the window: must never be exported.
  await workos.auditLogs.createEvent(org.id, {
    action: 'doc.viewed',
    occurredAt: new Date(base.getTime() + 3600 * 1000),
    actor: { id: 'user_1', type: 'user', name: 'Ann Lee' },
    targets: [],
    context: { location: '10.0.0.1' },
    metadata: { tag: 'outside' },
  });
});

// ------------------------------------------------------------------ exports

await check('auditLogs.createExport returns a pending AuditLogExport', async () => {
  const org = need('org');
  const [rangeStart, rangeEnd] = need('window');
  const exp = await workos.auditLogs.createExport({ organizationId: org.id, rangeStart, rangeEnd });
  expect(exp.object === 'audit_log_export', `object=${JSON.stringify(exp.object)}`);
  expect(/^audit_log_export_[0-9A-HJKMNP-TV-Z]{26}$/.test(exp.id), `id=${JSON.stringify(exp.id)}`);
  expect(exp.state === 'pending', `state=${JSON.stringify(exp.state)}`);
  expect(exp.url == null, `url=${JSON.stringify(exp.url)}`);
  expect(MILLIS.test(exp.createdAt), `createdAt=${JSON.stringify(exp.createdAt)}`);
  expect(MILLIS.test(exp.updatedAt), `updatedAt=${JSON.stringify(exp.updatedAt)}`);
  state.export = exp;
});

await check('auditLogs.getExport polls to ready with a url', async () => {
  const exp = need('export');
  const ready = await waitReady(exp.id);
  expect(ready.id === exp.id, `id=${ready.id}`);
  expect(ready.createdAt === exp.createdAt, 'createdAt changed');
  expect(MILLIS.test(ready.updatedAt), `updatedAt=${JSON.stringify(ready.updatedAt)}`);
  expect(Date.parse(ready.updatedAt) >= Date.parse(ready.createdAt), 'updatedAt < createdAt');
  state.ready = ready;
});

await check('download without API key: CSV with documented header, rows in time order', async () => {
  const ready = need('ready');
  const csv = await downloadRows(ready.url);
  const disposition = csv.res.headers.get('content-disposition') || '';
  expect(disposition.includes(`filename="${ready.id}.csv"`), `content-disposition=${disposition}`);
  const expected = [...HEADER];
  for (const n of [1, 2]) for (const p of ['id', 'type', 'name', 'metadata']) expected.push(`target_${p}_${n}`);
  expected.push('id');
  expect(sameJson(csv.header, expected), `header=${JSON.stringify(csv.header)}`);
  expect(sameJson(tags(csv), ['e4', 'e3', 'e2', 'e1']), `tags=${JSON.stringify(tags(csv))}`);
  const stamps = csv.rows.map((r) => r[0]);
  expect(sameJson(stamps, [...stamps].sort()), `occurred_at not ascending: ${stamps}`);
  expect(csv.rows.every((r) => r.at(-1).startsWith('audit_log_event_')), 'last column is not the event id');
  const e4 = csv.rows[0];
  expect(e4[1] === "'+cmd|calc", `formula cell not protected: ${JSON.stringify(e4[1])}`);
  expect(e4[5] === EVENTS[3][3], `actor_name=${JSON.stringify(e4[5])}`);
  expect(sameJson(JSON.parse(e4[6]), { n: 3 }), `actor_metadata=${e4[6]}`);
  expect(sameJson(JSON.parse(e4[9]), { tag: 'e4', note: 'a, b "c"\nd' }), `metadata=${e4[9]}`);
  const e2 = csv.rows[2];
  expect(sameJson(e2.slice(10, 12), ['doc_1', 'document']) && sameJson(e2.slice(14, 16), ['team_1', 'team']),
    `targets=${JSON.stringify(e2.slice(10, 18))}`);
});

await check('two getExport calls a second apart give two different working urls', async () => {
  const exp = need('export');
  const first = (await workos.auditLogs.getExport(exp.id)).url;
  await sleep(1100);
  const second = (await workos.auditLogs.getExport(exp.id)).url;
  expect(first !== second, 'same url twice');
  for (const link of [first, second]) {
    const res = await fetch(link);
    expect(res.status === 200, `${link}: status ${res.status}`);
  }
});

await check('a tampered download link is a 404 without content', async () => {
  const ready = need('ready');
  const link = new URL(ready.url);
  if (link.searchParams.has('X-Amz-Signature')) {
    // An S3 presigned link: the object store checks it (moto, used in tests, does not).
    expect(!link.searchParams.has('signature'), 'a presigned link carries only the store signature');
    return;
  }
  const sig = link.searchParams.get('signature');
  link.searchParams.set('signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
  const res = await fetch(link);
  const body = await res.text();
  expect(res.status === 404, `status=${res.status}`);
  expect(!body.includes('occurred_at'), 'file content leaked');
  expect((res.headers.get('content-type') || '').startsWith('application/json'), `content-type=${res.headers.get('content-type')}`);
});

await check('createExport filters: actions', async () => {
  const got = tags(await exportRows({ actions: ['doc.viewed'] }));
  expect(sameJson(got, ['e3', 'e1']), `tags=${JSON.stringify(got)}`);
});

await check('createExport filters: actorNames', async () => {
  const got = tags(await exportRows({ actorNames: ['Bob, "the" builder'] }));
  expect(sameJson(got, ['e3', 'e2']), `tags=${JSON.stringify(got)}`);
});

await check('createExport filters: actorIds, targets, and AND across fields', async () => {
  let got = tags(await exportRows({ actorIds: ['user_1', 'user_3'] }));
  expect(sameJson(got, ['e4', 'e1']), `actorIds: ${JSON.stringify(got)}`);
  got = tags(await exportRows({ targets: ['team'] }));
  expect(sameJson(got, ['e3', 'e2']), `targets: ${JSON.stringify(got)}`);
  got = tags(await exportRows({ actions: ['doc.viewed'], targets: ['team'], actorIds: ['user_2'] }));
  expect(sameJson(got, ['e3']), `combined: ${JSON.stringify(got)}`);
});

await check('an export matching nothing is ready with a header-only file', async () => {
  const csv = await exportRows({ actions: ['nothing.matches'] });
  expect(sameJson(csv.header, [...HEADER, 'id']), `header=${JSON.stringify(csv.header)}`);
  expect(csv.rows.length === 0, `rows=${JSON.stringify(csv.rows)}`);
});

await check('createExport with rangeStart after rangeEnd is rejected with status 400', async () => {
  const org = need('org');
  const [start, end] = need('window');
  let error;
  try {
    await workos.auditLogs.createExport({ organizationId: org.id, rangeStart: end, rangeEnd: start });
  } catch (e) {
    error = e;
  }
  expect(error, 'reversed range was accepted');
  expect(error.status === 400, `expected status 400, got ${describeErr(error)}`);
  expect(error.rawData?.code === 'invalid_audit_log_export_range_date', `body=${JSON.stringify(error.rawData)}`);
});

await check('createExport for an unknown organization throws NotFoundException', async () => {
  const [rangeStart, rangeEnd] = need('window');
  await expectRejects(NotFoundException, 'NotFoundException',
    () => workos.auditLogs.createExport({ organizationId: UNKNOWN_ORG, rangeStart, rangeEnd }), 'unknown org');
});

await check('getExport of an unknown export throws NotFoundException', async () => {
  const e = await expectRejects(NotFoundException, 'NotFoundException',
    () => workos.auditLogs.getExport(UNKNOWN_EXPORT), 'unknown export');
  expect(e.status === 404, `status=${e.status}`);
});

// ------------------------------------------------------------------ summary

console.log(`[${SUITE}] done: passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
