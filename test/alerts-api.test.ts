import { strict as assert } from 'node:assert';
import { alertsCommand } from '../src/cli/alerts';
import { statusCommand } from '../src/cli/status';
import { AlertsNode, MIN, startAlertsNode } from './alerts-harness';
import { FakeClock } from './fake-clock';
import { freePort } from './helpers';

const TOKEN = 'alerts-token';
const CONFIG = `
contacts:
  alice: { log: true }
escalations:
  default: { levels: [ { notify: [alice] } ], group_wait: 0s }
`;

/** /api/alerts, acknowledgements and silences over HTTP, hostile input, and `remon alerts`. */
describe('alerts: the HTTP API and remon alerts', function () {
  this.timeout(30_000);
  let node: AlertsNode;
  let base: string;
  // Near the real time: the CLI prints times relative to the machine's clock.
  const T0 = Math.floor(Date.now() / MIN) * MIN;
  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    node = await startAlertsNode(CONFIG, { clock: new FakeClock(T0), web: `127.0.0.1:${port}`, token: TOKEN });
    node.sla('db', 'firing', { message: 'db.up (0) == 1 failed for 1m', value: 0 });
    node.sla('api', 'firing', { message: 'api down' });
    await node.advance(MIN);
    node.sla('api', 'ok', { message: 'api up' });
    await node.advance(MIN);
  });
  after(() => node.stop());

  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) => {
    const res = await fetch(`${base}${path}`, { method, headers: method === 'GET' ? {} : headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  };

  // [what, method, path, body, status, the answer (exact JSON, or a pattern)]
  const hostile: Array<[string, string, string, unknown, number, RegExp | Record<string, unknown>]> = [
    ['an unknown state', 'GET', '/api/alerts?state=bogus', undefined, 400, /^\{"error":"state: expected one of: active, pending, firing, acknowledged, resolved; got \\"bogus\\"/],
    ['a limit of 0', 'GET', '/api/alerts?limit=0', undefined, 400, /^\{"error":"limit: expected a number from 1 to 10000/],
    ['a limit that is not a number', 'GET', '/api/alerts?limit=1e9', undefined, 400, /^\{"error":"limit: expected a number from 1 to 10000/],
    ['an unknown alert', 'GET', '/api/alerts/999', undefined, 404, { error: 'no alert has id "999"', code: 'REMON_ERR_ALERT_UNKNOWN' }],
    ['an id that is not one', 'GET', `/api/alerts/${'x'.repeat(41)}`, undefined, 400, /^\{"error":"id: expected an alert id, e\.g\. 12/],
    ['an ack without the token', 'POST', '/api/alerts/1/ack', {}, 401, /"code":"REMON_ERR_OP_UNAUTHORIZED"/],
    ['an ack of an unknown alert', 'POST', '/api/alerts/999/ack', {}, 404, { error: 'no alert has id "999"', code: 'REMON_ERR_ALERT_UNKNOWN' }],
    ['an ack of a resolved alert', 'POST', '/api/alerts/2/ack', {}, 409, /^\{"error":"alert 2 is resolved \(\d{4}-\d\d-\d\dT[\d:.]+Z\); there is nothing to acknowledge","code":"REMON_ERR_ALERT_STATE"\}$/],
    ['an ack with an unknown key', 'POST', '/api/alerts/1/ack', { by: 'x', force: true }, 400, /force/],
    ['an ack by a name too long', 'POST', '/api/alerts/1/ack', { by: 'x'.repeat(101) }, 400, /^\{"error":"by: /],
    ['an ack whose body is a list', 'POST', '/api/alerts/1/ack', '[]', 400, { error: 'expected a JSON object as the body', code: 'REMON_ERR_OP_PARAMS' }],
    ['an ack whose body is not JSON', 'POST', '/api/alerts/1/ack', '{"by":', 400, /^\{"error":"the body is not valid JSON: /],
    ['a silence without an end', 'POST', '/api/silences', { match: { team: 'web' } }, 400, { error: 'give until (a time) or for (a duration), one of them', code: 'REMON_ERR_OP_PARAMS' }],
    ['a silence with both ends', 'POST', '/api/silences', { match: { team: 'web' }, for: '1h', until: '2099-01-01T00:00:00Z' }, 400, { error: 'give until (a time) or for (a duration), one of them', code: 'REMON_ERR_OP_PARAMS' }],
    ['a silence that matches everything', 'POST', '/api/silences', { match: {}, for: '1h' }, 400, /^\{"error":"match: /],
    ['a silence on a bad label name', 'POST', '/api/silences', { match: { 'bad-label': 'x' }, for: '1h' }, 400, /^\{"error":"match: /],
    ['a silence that ended already', 'POST', '/api/silences', { match: { team: 'web' }, until: '2020-01-01T00:00:00Z' }, 400, { error: 'until: must be in the future; got 2020-01-01T00:00:00.000Z', code: 'REMON_ERR_OP_PARAMS' }],
    ['a silence until a day that does not exist', 'POST', '/api/silences', { match: { team: 'web' }, until: '2099-02-30T00:00:00Z' }, 400, { error: 'until/from: not a real date and time', code: 'REMON_ERR_OP_PARAMS' }],
    ['a silence for "forever"', 'POST', '/api/silences', { match: { team: 'web' }, for: 'forever' }, 400, /^\{"error":"for: expected a duration like 2h/],
    ['an expiry of an unknown silence', 'POST', '/api/silences/s999/expire', {}, 404, { error: 'no silence has id "s999"', code: 'REMON_ERR_ALERT_UNKNOWN' }],
    ['who is on call at a time that is not one', 'GET', '/api/oncall?at=tomorrow', undefined, 400, /^\{"error":"at: expected a date and time/],
    ['an ack link that is not one', 'GET', '/ack/garbage', undefined, 410, /this is not an ack link of this node/],
    ['an ack link too long', 'POST', `/ack/${'a'.repeat(300)}`, undefined, 400, /token: /],
  ];
  for (const [what, method, path, body, status, answer] of hostile) {
    it(`${what}: ${method} ${path.slice(0, 60)} → ${status}, with the reason`, async () => {
      const r = await request(method, path, body, what.includes('without the token') ? { 'content-type': 'application/json' } : auth);
      assert.equal(r.status, status, r.text);
      if (answer instanceof RegExp) assert.match(r.text, answer);
      else assert.deepEqual(r.json(), answer);
    });
  }

  it('GET /api/alerts: newest first, with state, level, history; ?state= and ?limit=', async () => {
    const all = (await request('GET', '/api/alerts')).json();
    assert.deepEqual(all.map((a: { id: string; sla: string; state: string; level: number }) => `${a.id} ${a.sla} ${a.state} L${a.level}`), ['2 api resolved L1', '1 db firing L1']);
    assert.deepEqual(Object.keys(all[1]), [
      'id', 'sla', 'source', 'state', 'severity', 'labels', 'value', 'message', 'since', 'startedAt', 'firedAt', 'acknowledgedAt',
      'acknowledgedBy', 'resolvedAt', 'duration_s', 'escalation', 'level', 'suppressed', 'history', 'actions',
    ]);
    assert.equal(all[0].duration_s, 60);
    assert.deepEqual((await request('GET', '/api/alerts?state=active')).json().map((a: { id: string }) => a.id), ['1']);
    assert.deepEqual((await request('GET', '/api/alerts?limit=1')).json().map((a: { id: string }) => a.id), ['2']);
    const one = (await request('GET', '/api/alerts/1')).json();
    assert.deepEqual(one.notifications, [{ step: '1:1:0:1', kind: 'firing', level: 1, at: new Date(T0).toISOString(), contact: 'alice', channel: 'log', outcome: 'sent' }]);
  });

  it('remon alerts lists the active alerts; --state all every one; --json as JSON', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const env = { REMON_URL: base, REMON_TOKEN: TOKEN };
    assert.equal(await alertsCommand([], io, env), 0, err.join(''));
    const lines = out.join('').trimEnd().split('\n');
    assert.match(lines[0], /^ALERT  SLA  STATE   SEVERITY  LEVEL  SINCE +MESSAGE$/);
    assert.match(lines[2], /^1      db   firing  page      1      \S+( ago)?\s+db\.up \(0\) == 1 failed for 1m$/);
    assert.equal(lines.length, 3);
    out.length = 0;
    assert.equal(await alertsCommand(['--state', 'all'], io, env), 0);
    assert.deepEqual(out.join('').trimEnd().split('\n').slice(2).map((l) => l.split(/\s+/).slice(0, 3).join(' ')), ['2 api resolved', '1 db firing']);
    out.length = 0;
    assert.equal(await alertsCommand(['--state', 'resolved', '--json'], io, env), 0);
    assert.deepEqual(JSON.parse(out.join('')).map((a: { id: string }) => a.id), ['2']);
    out.length = 0;
    assert.equal(await alertsCommand(['--state', 'pending'], io, env), 0);
    assert.equal(out.join(''), '(no pending alerts; --state all lists every alert the node keeps)\n');
  });

  // [args, env token, exit code, stdout, stderr]
  const cli: Array<[string[], string | undefined, number, string | RegExp, string | RegExp]> = [
    [['ack'], TOKEN, 2, '', /^remon alerts: missing the alert ID \(remon alerts lists them\)\n\nUsage: remon alerts/],
    [['frob'], TOKEN, 2, '', /^remon alerts: unknown sub-command "frob"; expected ack\n/],
    [['--state', 'bogus'], TOKEN, 2, '', /^remon alerts: --state must be one of active, pending, firing, acknowledged, resolved, all; got "bogus"\n/],
    [['--limit', '0'], TOKEN, 2, '', /^remon alerts: --limit must be a number from 1 to 10000; got "0"\n/],
    [['ack', '1', '--state', 'firing'], TOKEN, 2, '', /^remon alerts: --state and --limit are for listing, not for ack\n/],
    [['ack', '1'], 'wrong', 1, '', /^remon alerts ack: missing or wrong bearer token \(Authorization: Bearer <node\.token>\) \(give the node's token with --token or REMON_TOKEN\) \(HTTP 401\)\n$/],
    [['ack', '999'], TOKEN, 1, '', 'remon alerts ack: no alert has id "999" (HTTP 404)\n'],
    [['ack', '../1'], TOKEN, 2, '', /^remon alerts ack: id: expected an alert id, e\.g\. 12.* \(HTTP 400\)\n$/],
    [['ack', '1', '--by', 'carol', '--comment', 'on it'], TOKEN, 0, 'alert 1 (db) acknowledged by carol; its escalation stopped\n', ''],
    [['ack', '1'], TOKEN, 1, '', /^remon alerts ack: alert 1 is acknowledged already, by carol at \S+ \(HTTP 409\)\n$/],
  ];
  for (const [args, token, code, stdout, stderr] of cli) {
    it(`remon alerts ${args.join(' ')}${token !== TOKEN ? ` (token ${token})` : ''} → exit ${code}`, async () => {
      let out = '';
      let err = '';
      const got = await alertsCommand(args, { out: (t) => (out += t), err: (t) => (err += t) }, { REMON_URL: base, ...(token && { REMON_TOKEN: token }) });
      assert.equal(got, code, err);
      if (typeof stdout === 'string') assert.equal(out, stdout);
      else assert.match(out, stdout);
      if (typeof stderr === 'string') assert.equal(err, stderr);
      else assert.match(err, stderr);
    });
  }

  it('the ack by the CLI is in the alert\'s history, and remon status shows the active alerts', async () => {
    const a = (await request('GET', '/api/alerts/1')).json();
    assert.deepEqual([a.state, a.acknowledgedBy], ['acknowledged', 'carol']);
    assert.deepEqual(a.history.at(-2), { at: a.acknowledgedAt, what: 'acknowledged', message: 'by carol: on it' });
    let out = '';
    assert.equal(await statusCommand([], { out: (t) => (out += t), err: () => undefined }, { REMON_URL: base }), 0);
    assert.match(out, /\nALERT  SLA  STATE         SEVERITY  LEVEL  SINCE +MESSAGE\n[- ]+\n1      db   acknowledged  page      1      .*by carol: db\.up \(0\) == 1 failed for 1m\n$/);
  });

  it('a node unreachable: exit 1 saying where it looked', async () => {
    let err = '';
    const dead = `http://127.0.0.1:${await freePort()}`;
    assert.equal(await alertsCommand([], { out: () => undefined, err: (t) => (err += t) }, { REMON_URL: dead }), 1);
    assert.equal(err, `remon alerts: cannot reach the node at ${dead}: ECONNREFUSED (set --url or REMON_URL)\n`);
  });

  it('silences at run time: created (201), listed, matched, expired; and no more than 1000 active', async () => {
    const created = await request('POST', '/api/silences', { match: { sla: 'db' }, for: '2h', comment: 'maintenance', by: 'carol' });
    assert.equal(created.status, 201, created.text);
    const s = created.json();
    assert.deepEqual([s.id, s.matchText, s.active, s.until], ['s1', 'sla=db', true, new Date(node.clock.now() + 120 * MIN).toISOString()]);
    assert.deepEqual((await request('GET', '/api/silences')).json().map((x: { id: string }) => x.id), ['s1']);
    assert.equal((await request('GET', '/api/alerts/1')).json().suppressed, `silenced by s1 (sla=db) until ${s.until}: maintenance`);
    const expired = await request('POST', '/api/silences/s1/expire', {});
    assert.equal(expired.status, 200);
    assert.equal(expired.json().active, false);
    assert.equal((await request('GET', '/api/alerts/1')).json().suppressed, null);
    for (let i = 0; i < 1000; i++) await node.op('silences.create', { match: { n: String(i) }, for: '1h' });
    const refused = await request('POST', '/api/silences', { match: { n: 'one more' }, for: '1h' });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json(), { error: '1000 silences made over the API are active, the most a node keeps; expire some (POST /api/silences/ID/expire) first', code: 'REMON_ERR_SILENCE_LIMIT' });
  });

  it('answers are bounded: 500 alerts by default, 20 lines of history each', async () => {
    for (let i = 0; i < 520; i++) node.sla(`bulk${i}`, 'firing');
    for (let i = 0; i < 30; i++) {
      node.sla('flappy', 'firing');
      node.sla('flappy', 'unknown');
    }
    await node.advance(MIN);
    const r = await request('GET', '/api/alerts');
    const list = r.json();
    assert.equal(list.length, 500);
    assert.ok(list.every((a: { history: unknown[] }) => a.history.length <= 20));
    const flappy = list.find((a: { sla: string }) => a.sla === 'flappy');
    assert.equal(flappy.history.length, 20);
    assert.equal((await request('GET', `/api/alerts/${flappy.id}`)).json().history.length, 32);
    assert.ok(r.text.length < 2_000_000, `${r.text.length} bytes`);
  });
});
