// SDK conformance checks for audit log retention: the official WorkOS Node SDK
// (@workos-inc/node@8.13.0) against an auditlog server.
//
// @workos-inc/node 8.13.0 has no retention methods; they arrived in later
// majors as `auditLogs.getOrganizationAuditLogsRetention({ id })` and
// `auditLogs.updateOrganizationAuditLogsRetention({ id, retentionPeriod })`,
// which send only `{"retention_period": "<enum>"}` and read
// `retention_period_in_days` (missing → null). When the SDK lacks them, the
// same requests go through the SDK's own public transport (`workos.get` /
// `workos.put`), so status handling and exception mapping are the SDK's.
//
// Environment:
//   AUDITLOG_URL          base URL of the server, e.g. http://127.0.0.1:8080 (required)
//   AUDITLOG_KEY          an API key the server accepts (required)
//   AUDITLOG_SDK_NODE_DIR npm prefix holding the SDK (default: <repo>/.sdk/node)
//
// Prints one `PASS node: <check>` or `FAIL node: <check>: <reason>` line per
// check and exits 1 if any check failed.

import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SUITE = 'node';
const UNKNOWN_ORG = 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ';

const here = dirname(fileURLToPath(import.meta.url));
const sdkPrefix = resolve(process.env.AUDITLOG_SDK_NODE_DIR || join(here, '..', '..', '..', '.sdk', 'node'));

const baseUrl = (process.env.AUDITLOG_URL || '').trim();
const apiKey = (process.env.AUDITLOG_KEY || '').trim();
if (!baseUrl || !apiKey) {
  console.log('FAIL node: setup: AUDITLOG_URL and AUDITLOG_KEY must be set');
  process.exit(1);
}

// Load the SDK's ESM entry point from the local npm prefix (see conformance.mjs).
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
const { WorkOS, NotFoundException, UnprocessableEntityException } = sdk;
console.log(`[node] @workos-inc/node ${sdkVersion} (retention)`);

const url = new URL(baseUrl);
const workos = new WorkOS(apiKey, {
  apiHostname: url.hostname,
  port: url.port ? Number(url.port) : undefined,
  https: url.protocol === 'https:',
  timeout: 30000,
});
const RUN = randomBytes(4).toString('hex');

// Every `retention_period` value and the days it stands for (N_MONTHS = 30·N, N_YEARS = 365·N).
const PERIODS = [
  ['1_MONTH', 30],
  ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => [`${n}_MONTHS`, 30 * n]),
  ['1_YEAR', 365],
  ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => [`${n}_YEARS`, 365 * n]),
];

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
  for (const k of ['status', 'code', 'message', 'requestID', 'rawStatus', 'rawBody', 'errors', 'rawData']) {
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

// ------------------------------------------------------------------ retention methods

const retentionPath = (id) => `/organizations/${id}/audit_logs_retention`;
const deserializeRetention = (data) => ({ retentionPeriodInDays: data.retention_period_in_days ?? null });

let getRetention;
let updateRetention;
if (typeof workos.auditLogs.getOrganizationAuditLogsRetention === 'function') {
  getRetention = (id) => workos.auditLogs.getOrganizationAuditLogsRetention({ id });
  updateRetention = (id, retentionPeriod) => workos.auditLogs.updateOrganizationAuditLogsRetention({ id, retentionPeriod });
} else {
  console.log(
    `[node] note: @workos-inc/node ${sdkVersion} has no retention methods; sending their requests through workos.get/workos.put`,
  );
  getRetention = async (id) => deserializeRetention((await workos.get(retentionPath(id))).data);
  updateRetention = async (id, retentionPeriod) =>
    deserializeRetention((await workos.put(retentionPath(id), { retention_period: retentionPeriod })).data);
}

// ------------------------------------------------------------------ checks

await check('retention: createOrganization for the retention checks', async () => {
  state.org = await workos.organizations.createOrganization({ name: `Conformance Node retention ${RUN}` });
  state.other = await workos.organizations.createOrganization({ name: `Conformance Node retention other ${RUN}` });
});

await check('getOrganizationAuditLogsRetention returns the server default', async () => {
  const org = need('org');
  const got = await getRetention(org.id);
  const days = got.retentionPeriodInDays;
  expect(Number.isInteger(days) && days > 0, `retentionPeriodInDays=${JSON.stringify(days)}`);
  state.default = days;
});

await check('updateOrganizationAuditLogsRetention maps every retentionPeriod to its days', async () => {
  const org = need('org');
  const wrong = [];
  for (const [period, days] of PERIODS) {
    const updated = await updateRetention(org.id, period);
    const read = await getRetention(org.id);
    if (updated.retentionPeriodInDays !== days || read.retentionPeriodInDays !== days) {
      wrong.push(`${period}: update=${updated.retentionPeriodInDays} get=${read.retentionPeriodInDays}, want ${days}`);
    }
  }
  expect(wrong.length === 0, wrong.join('; '));
});

await check('retention_period_in_days (spec body) through workos.put', async () => {
  const org = need('org');
  const wrong = [];
  for (const [, days] of PERIODS) {
    const { data } = await workos.put(retentionPath(org.id), { retention_period_in_days: days });
    const read = await getRetention(org.id);
    if (data.retention_period_in_days !== days || read.retentionPeriodInDays !== days) {
      wrong.push(`${days}: put=${JSON.stringify(data)} get=${read.retentionPeriodInDays}`);
    }
  }
  expect(wrong.length === 0, wrong.join('; '));
});

await check('audit_log_configuration (workos.get) reflects the retention', async () => {
  const org = need('org');
  await updateRetention(org.id, '3_MONTHS');
  const { data } = await workos.get(`/organizations/${org.id}/audit_log_configuration`);
  expect(data.organization_id === org.id, `organization_id=${JSON.stringify(data.organization_id)}`);
  expect(data.retention_period_in_days === 90, `retention_period_in_days=${JSON.stringify(data.retention_period_in_days)}`);
  expect(data.state === 'active', `state=${JSON.stringify(data.state)}`);
  state.set = 90;
});

await check('updateOrganizationAuditLogsRetention with invalid values throws UnprocessableEntityException', async () => {
  const org = need('org');
  const expected = need('set');
  for (const period of ['FOREVER', '12_MONTHS', '0_YEARS', '1_year', '']) {
    const e = await expectRejects(UnprocessableEntityException, 'UnprocessableEntityException',
      () => updateRetention(org.id, period), `retentionPeriod ${JSON.stringify(period)}`);
    expect(e.status === 422, `${JSON.stringify(period)}: status=${e.status}`);
  }
  for (const body of [{}, { retention_period_in_days: 31 }, { retention_period: '1_YEAR', retention_period_in_days: 365 }]) {
    const e = await expectRejects(UnprocessableEntityException, 'UnprocessableEntityException',
      () => workos.put(retentionPath(org.id), body), `body ${JSON.stringify(body)}`);
    expect(e.status === 422, `${JSON.stringify(body)}: status=${e.status}`);
  }
  const read = await getRetention(org.id);
  expect(read.retentionPeriodInDays === expected, `retention changed by rejected updates: ${read.retentionPeriodInDays}`);
});

await check('retention of one organization leaves another at the default', async () => {
  const other = need('other');
  const expected = need('default');
  const read = await getRetention(other.id);
  expect(read.retentionPeriodInDays === expected, `retentionPeriodInDays=${read.retentionPeriodInDays}, want ${expected}`);
});

await check('retention of an unknown organization throws NotFoundException', async () => {
  const e = await expectRejects(NotFoundException, 'NotFoundException', () => getRetention(UNKNOWN_ORG), 'get unknown org');
  expect(e.status === 404, `status=${e.status}`);
  const u = await expectRejects(NotFoundException, 'NotFoundException',
    () => updateRetention(UNKNOWN_ORG, '1_YEAR'), 'update unknown org');
  expect(u.status === 404, `status=${u.status}`);
});

// ------------------------------------------------------------------ summary

console.log(`[${SUITE}] retention done: passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
