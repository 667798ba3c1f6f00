// SDK conformance checks: the official WorkOS Node SDK (@workos-inc/node@8.13.0)
// against an auditlog server.
//
// Environment:
//   AUDITLOG_URL          base URL of the server, e.g. http://127.0.0.1:8080 (required)
//   AUDITLOG_KEY          an API key the server accepts (required)
//   AUDITLOG_SDK_NODE_DIR npm prefix holding the SDK (default: <repo>/.sdk/node)
//
// Prints one `PASS node: <check>` or `FAIL node: <check>: <reason>` line per
// check and exits 1 if any check failed.

import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
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

// Load the SDK's ESM entry point from the local npm prefix (not from any
// node_modules next to this file): resolve the package, then follow its
// package.json "exports" to the `import` build.
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
const { WorkOS, NotFoundException, UnprocessableEntityException, UnauthorizedException } = sdk;
console.log(`[node] @workos-inc/node ${sdkVersion}`);

const url = new URL(baseUrl);
const clientOptions = {
  apiHostname: url.hostname,
  port: url.port ? Number(url.port) : undefined,
  https: url.protocol === 'https:',
  timeout: 30000,
};
const workos = new WorkOS(apiKey, { ...clientOptions });
const badWorkos = new WorkOS(`sk_test_wrong_${randomBytes(8).toString('hex')}`, { ...clientOptions });
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

// Expect `promiseFn` to reject with the SDK's exported class `cls`; checked both
// with instanceof and by constructor name.
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

function makeEvent({ occurredAt = new Date(), metadata, action = 'user.signed_in' } = {}) {
  return {
    action,
    occurredAt,
    actor: {
      id: 'user_TF4C5938',
      type: 'user',
      name: 'Jon Smith',
      metadata: { role: 'admin', login_count: 42, mfa: true },
    },
    targets: [
      { id: 'team_123', type: 'team', name: 'Core', metadata: { plan: 'pro' } },
      { id: 'doc_456', type: 'document' },
    ],
    context: { location: '123.123.123.123', userAgent: 'Chrome/104.0.0.0 (auditlog sdk conformance)' },
    metadata: metadata ?? { owner: 'user_01GBTCQ2', ratio: 0.5, ok: false },
  };
}

const isOrgId = (v) => typeof v === 'string' && /^org_[0-9A-HJKMNP-TV-Z]{26}$/.test(v);
const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ------------------------------------------------------------------ organizations

await check('createOrganization returns the Organization', async () => {
  const name = `Conformance Node ${RUN}`;
  const org = await workos.organizations.createOrganization({
    name,
    externalId: `ext_node_${RUN}`,
    metadata: { tier: 'gold', region: 'eu' },
  });
  expect(org.object === 'organization', `object=${JSON.stringify(org.object)}`);
  expect(isOrgId(org.id), `id=${JSON.stringify(org.id)} is not org_<ULID>`);
  expect(org.name === name, `name=${JSON.stringify(org.name)}`);
  expect(org.externalId === `ext_node_${RUN}`, `externalId=${JSON.stringify(org.externalId)}`);
  expect(sameJson(org.metadata, { tier: 'gold', region: 'eu' }), `metadata=${JSON.stringify(org.metadata)}`);
  expect(Array.isArray(org.domains) && org.domains.length === 0, `domains=${JSON.stringify(org.domains)}`);
  expect(org.allowProfilesOutsideOrganization === false, `allowProfilesOutsideOrganization=${org.allowProfilesOutsideOrganization}`);
  expect(!Number.isNaN(Date.parse(org.createdAt)), `createdAt=${JSON.stringify(org.createdAt)}`);
  expect(!Number.isNaN(Date.parse(org.updatedAt)), `updatedAt=${JSON.stringify(org.updatedAt)}`);
  state.org = org;
});

await check('getOrganization returns the same Organization', async () => {
  const org = need('org');
  const got = await workos.organizations.getOrganization(org.id);
  expect(got.id === org.id, `id=${got.id}`);
  expect(got.name === org.name, `name=${JSON.stringify(got.name)}`);
  expect(got.externalId === org.externalId, `externalId=${JSON.stringify(got.externalId)}`);
  expect(sameJson(got.metadata, org.metadata), `metadata=${JSON.stringify(got.metadata)}`);
  expect(got.createdAt === org.createdAt, `createdAt ${got.createdAt} != ${org.createdAt}`);
});

await check('updateOrganization renames and keeps omitted fields', async () => {
  const org = need('org');
  const newName = `Conformance Node ${RUN} renamed`;
  const upd = await workos.organizations.updateOrganization({ organization: org.id, name: newName });
  expect(upd.id === org.id, `id=${upd.id}`);
  expect(upd.name === newName, `name=${JSON.stringify(upd.name)}`);
  expect(upd.externalId === org.externalId, `externalId changed to ${JSON.stringify(upd.externalId)}`);
  expect(sameJson(upd.metadata, org.metadata), `metadata changed to ${JSON.stringify(upd.metadata)}`);
  const got = await workos.organizations.getOrganization(org.id);
  expect(got.name === newName, `get after update: name=${JSON.stringify(got.name)}`);
});

await check('listOrganizations pages with limit=2 and autoPagination sees every id once', async () => {
  const org = need('org');
  const extra = [];
  for (let i = 0; i < 3; i++) {
    extra.push(await workos.organizations.createOrganization({ name: `Conformance Node ${RUN} page ${i}` }));
  }
  state.pageOrgs = extra;
  const mine = [org.id, ...extra.map((o) => o.id)];

  // Cursor paging by hand, limit=2 (the SDK's autoPagination() returns only the
  // first page when a limit is given, so follow listMetadata.after ourselves).
  const seen = [];
  let page = await workos.organizations.listOrganizations({ limit: 2 });
  expect(page.data.length === 2, `first page has ${page.data.length} items, want 2`);
  expect(page.listMetadata?.after, 'first page listMetadata.after is null but more exist');
  for (let n = 0; ; n++) {
    expect(n < 1000, 'more than 1000 pages: cursor loop?');
    expect(page.data.length <= 2, `page has ${page.data.length} items with limit=2`);
    seen.push(...page.data.map((o) => o.id));
    const after = page.listMetadata?.after;
    if (!after) break;
    page = await workos.organizations.listOrganizations({ limit: 2, after });
  }
  const dupes = [...new Set(seen.filter((id, i) => seen.indexOf(id) !== i))];
  expect(dupes.length === 0, `ids seen more than once (limit=2 paging): ${dupes}`);
  const missing = mine.filter((id) => !seen.includes(id));
  expect(missing.length === 0, `created ids never seen (limit=2 paging): ${missing}`);

  // The SDK's own auto-pagination (limit=100 per page, follows `after`).
  const all = await (await workos.organizations.listOrganizations()).autoPagination();
  const allIds = all.map((o) => o.id);
  const dupes2 = [...new Set(allIds.filter((id, i) => allIds.indexOf(id) !== i))];
  expect(dupes2.length === 0, `ids seen more than once (autoPagination): ${dupes2}`);
  const missing2 = mine.filter((id) => !allIds.includes(id));
  expect(missing2.length === 0, `created ids never seen (autoPagination): ${missing2}`);
  expect(allIds.length === seen.length, `autoPagination saw ${allIds.length} orgs, limit=2 paging saw ${seen.length}`);
});

await check('deleteOrganization then getOrganization throws NotFoundException', async () => {
  const victim = need('pageOrgs').at(-1);
  const res = await workos.organizations.deleteOrganization(victim.id);
  expect(res === undefined, `delete resolved with ${JSON.stringify(res)}`);
  const e = await expectRejects(NotFoundException, 'NotFoundException',
    () => workos.organizations.getOrganization(victim.id), 'get after delete');
  expect(e.status === 404, `status=${e.status}`);
});

// ------------------------------------------------------------------ audit log events

await check('auditLogs.createEvent without idempotencyKey resolves', async () => {
  const org = need('org');
  const res = await workos.auditLogs.createEvent(org.id, makeEvent({ occurredAt: new Date(Date.now() - 60_000) }));
  expect(res === undefined, `resolved with ${JSON.stringify(res)}`);
});

await check('auditLogs.createEvent with the same idempotencyKey twice resolves both times', async () => {
  const org = need('org');
  const idempotencyKey = randomUUID();
  const event = makeEvent({ action: 'user.updated' });
  await workos.auditLogs.createEvent(org.id, event, { idempotencyKey });
  await workos.auditLogs.createEvent(org.id, event, { idempotencyKey });
});

await check('auditLogs.createEvent accepts a 500-character metadata value', async () => {
  const org = need('org');
  await workos.auditLogs.createEvent(org.id, makeEvent({ metadata: { note: 'x'.repeat(500) } }));
});

await check('auditLogs.createEvent for unknown organization throws NotFoundException', async () => {
  await expectRejects(NotFoundException, 'NotFoundException',
    () => workos.auditLogs.createEvent(UNKNOWN_ORG, makeEvent()), 'unknown org');
});

await check('auditLogs.createEvent with a 501-character metadata value throws UnprocessableEntityException', async () => {
  const org = need('org');
  const e = await expectRejects(UnprocessableEntityException, 'UnprocessableEntityException',
    () => workos.auditLogs.createEvent(org.id, makeEvent({ metadata: { note: 'x'.repeat(501) } })),
    '501-char metadata value');
  expect(e.status === 422, `status=${e.status}`);
});

await check('wrong API key throws UnauthorizedException', async () => {
  await expectRejects(UnauthorizedException, 'UnauthorizedException',
    () => badWorkos.organizations.listOrganizations(), 'listOrganizations with bad key');
  await expectRejects(UnauthorizedException, 'UnauthorizedException',
    () => badWorkos.auditLogs.createEvent(state.org?.id ?? UNKNOWN_ORG, makeEvent()), 'createEvent with bad key');
});

// ------------------------------------------------------------------ admin portal

await check('portal.generateLink returns a single-use link for audit_logs and log_streams', async () => {
  const org = need('org');
  for (const intent of ['audit_logs', 'log_streams']) {
    const { link } = await workos.portal.generateLink({ organization: org.id, intent, returnUrl: 'https://app.example/settings' });
    expect(typeof link === 'string' && link.startsWith(`${baseUrl}/portal/launch?secret=`), `link=${link}`);
    const opened = await fetch(link, { redirect: 'manual' });
    expect(opened.status === 303, `opening ${intent}: status=${opened.status}`);
    const page = intent === 'audit_logs' ? '/portal/audit-logs' : '/portal/log-streams';
    expect(opened.headers.get('location') === page, `location=${opened.headers.get('location')}`);
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status === 403, `reopening: status=${again.status}`);
  }
});

await check('portal.generateLink with an intent this server does not offer throws UnprocessableEntityException', async () => {
  const org = need('org');
  const e = await expectRejects(UnprocessableEntityException, 'UnprocessableEntityException',
    () => workos.portal.generateLink({ organization: org.id, intent: 'sso' }), 'intent sso');
  // The SDK words its message from the errors' codes.
  expect(e.status === 422 && String(e.message).includes('unsupported_intent'), `names the refusal: ${describeErr(e)}`);
});

await check('portal.generateLink for an unknown organization throws NotFoundException', async () => {
  await expectRejects(NotFoundException, 'NotFoundException',
    () => workos.portal.generateLink({ organization: UNKNOWN_ORG, intent: 'audit_logs' }), 'unknown org');
});

// ------------------------------------------------------------------ summary

console.log(`[${SUITE}] done: passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
