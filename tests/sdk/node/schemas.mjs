// SDK conformance checks for action schemas: the official WorkOS Node SDK
// (@workos-inc/node@8.13.0) against an auditlog server.
//
// Creates schema versions and actions, lists them across pages, and sends
// events that violate or conform to a schema.
//
// @workos-inc/node 8.13.0 has `auditLogs.createSchema` but no `listSchemas`
// (added in later majors) and no list-actions method at all. When the SDK
// lacks them, listing goes through the SDK's own public transport
// (`workos.get`) and its `AutoPaginatable`, exactly as its list methods do.
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
const { WorkOS, AutoPaginatable, BadRequestException, NotFoundException, UnprocessableEntityException } = sdk;
console.log(`[node] @workos-inc/node ${sdkVersion} (schemas)`);

const url = new URL(baseUrl);
const workos = new WorkOS(apiKey, {
  apiHostname: url.hostname,
  port: url.port ? Number(url.port) : undefined,
  https: url.protocol === 'https:',
  timeout: 30000,
});
const RUN = randomBytes(4).toString('hex');
// Action names that need no percent-encoding: 8.13.0 puts `action` into the path as is.
const ACTION = `conformance_node_${RUN}.invoice_paid`;
const OTHER_ACTIONS = [1, 2, 3].map((i) => `conformance_node_${RUN}.action_${i}`);

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

const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const dupes = (items) => [...new Set(items.filter((x, i) => items.indexOf(x) !== i))];

// ------------------------------------------------------------------ listing helpers

// The SDK's list plumbing: GET with `order` defaulting to desc, the list
// envelope turned into { object, data, listMetadata }.
function lister(path, deserialize) {
  const fetchPage = async (options = {}) => {
    const query = { ...options, order: options.order || 'desc' };
    for (const k of Object.keys(query)) if (query[k] === undefined) delete query[k];
    const { data } = await workos.get(path, { query });
    return { object: 'list', data: data.data.map(deserialize), listMetadata: data.list_metadata };
  };
  return async (options) => new AutoPaginatable(await fetchPage(options), (params) => fetchPage(params), options);
}

const deserializeSchema = (s) => ({
  object: s.object,
  version: s.version,
  targets: s.targets,
  actor: s.actor,
  metadata: s.metadata,
  createdAt: s.created_at,
});
const deserializeAction = (a) => ({
  object: a.object,
  name: a.name,
  schema: deserializeSchema(a.schema),
  createdAt: a.created_at,
  updatedAt: a.updated_at,
});

let listSchemas;
if (typeof workos.auditLogs.listSchemas === 'function') {
  listSchemas = (action, options) => workos.auditLogs.listSchemas(action, options);
} else {
  console.log(`[node] note: @workos-inc/node ${sdkVersion} has no auditLogs.listSchemas; using workos.get + AutoPaginatable`);
  listSchemas = (action, options) => lister(`/audit_logs/actions/${action}/schemas`, deserializeSchema)(options);
}
const listActions = lister('/audit_logs/actions', deserializeAction);

// Follows listMetadata.after by hand with `limit` (autoPagination() returns only
// the first page when a limit was given).
async function pageByHand(list, limit, options = {}) {
  const pages = [];
  let page = await list({ ...options, limit });
  for (let n = 0; ; n++) {
    expect(n < 1000, 'more than 1000 pages: cursor loop?');
    expect(page.data.length <= limit, `page has ${page.data.length} items with limit=${limit}`);
    pages.push(page.data);
    const after = page.listMetadata?.after;
    if (!after) break;
    page = await list({ ...options, limit, after });
  }
  return pages;
}

// ------------------------------------------------------------------ creating schemas

// A schema in the SDK's simplified form: a `team` target (metadata `plan`
// string), actor metadata `role` of `roleType`, event metadata `count` number.
function schemaOptions(action, roleType, extraTarget) {
  const targets = [{ type: 'team', metadata: { plan: 'string' } }];
  if (extraTarget) targets.push({ type: extraTarget });
  return { action, targets, actor: { metadata: { role: roleType } }, metadata: { count: 'number' } };
}

await check('auditLogs.createSchema creates version 1 of a new action', async () => {
  const schema = await workos.auditLogs.createSchema(schemaOptions(ACTION, 'string'));
  expect(schema.object === 'audit_log_schema', `object=${JSON.stringify(schema.object)}`);
  expect(schema.version === 1, `version=${schema.version}`);
  expect(sameJson(schema.targets, [{ type: 'team', metadata: { plan: 'string' } }]), `targets=${JSON.stringify(schema.targets)}`);
  expect(sameJson(schema.actor, { metadata: { role: 'string' } }), `actor=${JSON.stringify(schema.actor)}`);
  expect(sameJson(schema.metadata, { count: 'number' }), `metadata=${JSON.stringify(schema.metadata)}`);
  expect(!Number.isNaN(Date.parse(schema.createdAt)), `createdAt=${JSON.stringify(schema.createdAt)}`);
  state.v1 = schema;
});

await check('auditLogs.createSchema with an identical schema returns the latest version', async () => {
  const v1 = need('v1');
  const again = await workos.auditLogs.createSchema(schemaOptions(ACTION, 'string'));
  expect(again.version === 1, `version=${again.version}, want 1`);
  expect(again.createdAt === v1.createdAt, `createdAt ${again.createdAt} != ${v1.createdAt}`);
});

await check('auditLogs.createSchema with changes creates versions 2 and 3', async () => {
  need('v1');
  const v2 = await workos.auditLogs.createSchema(schemaOptions(ACTION, 'string', 'document'));
  expect(v2.version === 2, `second version=${v2.version}`);
  expect(sameJson(v2.targets.map((t) => t.type), ['team', 'document']), `v2 targets=${JSON.stringify(v2.targets)}`);
  const v3 = await workos.auditLogs.createSchema(schemaOptions(ACTION, 'boolean'));
  expect(v3.version === 3, `third version=${v3.version}`);
  expect(sameJson(v3.actor, { metadata: { role: 'boolean' } }), `v3 actor=${JSON.stringify(v3.actor)}`);
  state.v3 = v3;
});

await check('auditLogs.createSchema creates three more actions', async () => {
  for (const action of OTHER_ACTIONS) {
    const schema = await workos.auditLogs.createSchema({ action, targets: [{ type: 'team' }] });
    expect(schema.version === 1, `${action}: version=${schema.version}`);
  }
  state.actions = [ACTION, ...OTHER_ACTIONS];
});

await check('auditLogs.createSchema with no targets throws UnprocessableEntityException', async () => {
  const e = await expectRejects(UnprocessableEntityException, 'UnprocessableEntityException',
    () => workos.auditLogs.createSchema({ action: `conformance_node_${RUN}.empty`, targets: [] }), 'empty targets');
  expect(e.status === 422, `status=${e.status}`);
});

// ------------------------------------------------------------------ listing

await check('schemas list newest first with limit=2 paging by hand', async () => {
  need('v3');
  const pages = await pageByHand(listSchemas.bind(null, ACTION), 2);
  const versions = pages.map((p) => p.map((s) => s.version));
  expect(sameJson(versions, [[3, 2], [1]]), `pages=${JSON.stringify(versions)}, want [[3,2],[1]]`);
  expect(pages.flat().every((s) => s.object === 'audit_log_schema'), 'object is not audit_log_schema');
});

await check('schemas list order=asc paging by hand', async () => {
  need('v3');
  const pages = await pageByHand(listSchemas.bind(null, ACTION), 2, { order: 'asc' });
  const versions = pages.flat().map((s) => s.version);
  expect(sameJson(versions, [1, 2, 3]), `versions=${JSON.stringify(versions)}, want [1,2,3]`);
});

await check('schemas list autoPagination without limit sees every version once', async () => {
  need('v3');
  const all = await (await listSchemas(ACTION)).autoPagination();
  const versions = all.map((s) => s.version);
  expect(sameJson(versions, [3, 2, 1]), `versions=${JSON.stringify(versions)}, want [3,2,1]`);
});

await check('schemas list of an unknown action throws NotFoundException', async () => {
  const e = await expectRejects(NotFoundException, 'NotFoundException',
    () => listSchemas(`conformance_node_${RUN}.unknown`), 'unknown action');
  expect(e.status === 404, `status=${e.status}`);
});

await check('actions list with limit=2 paging by hand sees every action once', async () => {
  const mine = need('actions');
  const pages = await pageByHand(listActions, 2);
  expect(pages.length >= 2, `only ${pages.length} page(s) for at least ${mine.length} actions`);
  const names = pages.flat().map((a) => a.name);
  expect(dupes(names).length === 0, `actions seen more than once: ${dupes(names)}`);
  const missing = mine.filter((n) => !names.includes(n));
  expect(missing.length === 0, `created actions never seen: ${missing}`);
  const order = names.filter((n) => mine.includes(n));
  expect(sameJson(order, [...mine].reverse()), `order=${JSON.stringify(order)}, want newest first`);
  const action = pages.flat().find((a) => a.name === ACTION);
  expect(action.object === 'audit_log_action', `object=${JSON.stringify(action.object)}`);
  expect(action.schema.version === 3, `${ACTION} carries version ${action.schema.version}, want 3`);
  expect(Date.parse(action.updatedAt) >= Date.parse(action.createdAt), 'updatedAt < createdAt');
  state.actionNames = names;
});

await check('actions list autoPagination without limit matches paging by hand', async () => {
  const mine = need('actions');
  const all = await (await listActions()).autoPagination();
  const names = all.map((a) => a.name);
  expect(dupes(names).length === 0, `actions seen more than once: ${dupes(names)}`);
  const missing = mine.filter((n) => !names.includes(n));
  expect(missing.length === 0, `created actions never seen: ${missing}`);
  const byHand = state.actionNames;
  if (byHand) {
    // Other suites may add actions concurrently; ours must agree in order.
    const a = names.filter((n) => mine.includes(n));
    const b = byHand.filter((n) => mine.includes(n));
    expect(sameJson(a, b), `autoPagination order ${JSON.stringify(a)} != paging by hand ${JSON.stringify(b)}`);
  }
});

// ------------------------------------------------------------------ validating events

function makeEvent({ role, targets, count = 3, version } = {}) {
  return {
    action: ACTION,
    occurredAt: new Date(),
    version,
    actor: { id: 'user_TF4C5938', type: 'user', name: 'Jon Smith', metadata: { role } },
    targets: targets ?? [{ id: 'team_123', type: 'team', metadata: { plan: 'pro' } }],
    context: { location: '123.123.123.123', userAgent: 'auditlog sdk conformance' },
    metadata: { count },
  };
}

await check('createOrganization for the event checks', async () => {
  state.org = await workos.organizations.createOrganization({ name: `Conformance Node schemas ${RUN}` });
});

await check('auditLogs.createEvent violating the schema throws BadRequestException', async () => {
  const org = need('org');
  need('v3');
  // Version 1 (the default) wants a `team` target and a string `role`.
  const e = await expectRejects(BadRequestException, 'BadRequestException',
    () => workos.auditLogs.createEvent(org.id, makeEvent({ role: 42, targets: [{ id: 'doc_1', type: 'document' }] })),
    'schema violation');
  expect(e.status === 400, `status=${e.status}`);
  expect(e.code === 'invalid_audit_log_event', `code=${JSON.stringify(e.code)}`);
  expect(Array.isArray(e.errors) && e.errors.length > 0, `errors=${JSON.stringify(e.errors)}`);
  const paths = e.errors.map((err) => err.instancePath).sort();
  expect(sameJson(paths, ['/actor/metadata/role', '/targets']), `instancePaths=${JSON.stringify(paths)}`);
  // Not checked: e.requestID is always "" in 8.13.0 (it reads headers["X-Request-ID"] from an
  // object built with Object.entries(fetch Headers), which is empty), whatever the server sends.
});

await check('auditLogs.createEvent conforming to version 1 resolves', async () => {
  const org = need('org');
  const res = await workos.auditLogs.createEvent(org.id, makeEvent({ role: 'admin' }));
  expect(res === undefined, `resolved with ${JSON.stringify(res)}`);
});

await check('auditLogs.createEvent with version 3 is validated against version 3', async () => {
  const org = need('org');
  await workos.auditLogs.createEvent(org.id, makeEvent({ role: true, version: 3 }));
  const e = await expectRejects(BadRequestException, 'BadRequestException',
    () => workos.auditLogs.createEvent(org.id, makeEvent({ role: 'admin', version: 3 })), 'string role against version 3');
  const paths = e.errors.map((err) => err.instancePath);
  expect(sameJson(paths, ['/actor/metadata/role']), `instancePaths=${JSON.stringify(paths)}`);
});

await check('auditLogs.createEvent with an unknown version throws BadRequestException', async () => {
  const org = need('org');
  const e = await expectRejects(BadRequestException, 'BadRequestException',
    () => workos.auditLogs.createEvent(org.id, makeEvent({ role: true, version: 99 })), 'version 99');
  expect(e.code === 'invalid_audit_log_event', `code=${JSON.stringify(e.code)}`);
  expect(/has not been configured in this environment/.test(e.message) && e.message.includes("'99'"),
    `message=${JSON.stringify(e.message)}`);
});

// ------------------------------------------------------------------ summary

console.log(`[${SUITE}] schemas done: passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
