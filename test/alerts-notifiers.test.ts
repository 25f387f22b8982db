import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AlertsNode, MIN, nodesPerTest } from './alerts-harness';
import { startReceiver, Receiver } from './alerts-receivers';
import { FakeClock } from './fake-clock';
import { freePort, processesMatching, tmpDir, uniqueMarker } from './helpers';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const SECOND = 1000;

/** Notifiers against real peers on loopback (the node itself on the fake clock). */
describe('alerts: notifiers against local receivers', function () {
  this.timeout(30_000);
  let node: AlertsNode | undefined;
  const start = nodesPerTest();
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  const receiver = async (kind: Parameters<typeof startReceiver>[0]): Promise<Receiver> => {
    const r = await startReceiver(kind);
    receivers.push(r);
    return r;
  };
  const contact = async (name: string) => (await node!.op('contacts.list')).find((c: { name: string }) => c.name === name).channels[0];

  it('webhook: a receiver that fails is retried with backoff, shown as failing meanwhile, and gets the notification once it answers', async () => {
    const hook = await receiver('json');
    hook.failNext(2, 503, 'busy');
    const clock = new FakeClock(T0);
    node = await start(`
notify: { retry: 1s, retry_max: 2s, attempts: 5 }
contacts:
  ops: { webhook: "${hook.url}/hook" }
escalations:
  default: { levels: [ { notify: [ops] } ], group_wait: 0s }
`, { clock, send: 'real' });
    node.sla('db', 'firing', { message: 'db.up (0) == 1 failed for 1m', value: 0 });
    await node.advance(0);
    assert.deepEqual(hook.got.map((g) => g.status), [503]);
    assert.deepEqual({ ...(await contact('ops')) }, {
      channel: 'webhook', state: 'failing', since: '2026-03-02T10:00:00.000Z', sent: 0, failures: 1, waiting: 1,
      lastError: `POST ${hook.url}/hook: HTTP 503: busy`, lastSentAt: null,
    });
    const pending = await node.op('alerts.get', { id: '1' });
    assert.deepEqual(pending.notifications.map((n: { contact: string; outcome: string }) => `${n.contact} ${n.outcome}`), ['ops pending']);
    await node.advance(SECOND - 1);
    assert.equal(hook.got.length, 1, 'the first retry waits 1s');
    await node.advance(1);
    assert.deepEqual(hook.got.map((g) => g.status), [503, 503]);
    await node.advance(2 * SECOND);
    assert.deepEqual(hook.got.map((g) => g.status), [503, 503, 200]);
    // Every attempt carried the same notification, ack link included (its key lets a receiver drop a repeat).
    assert.equal(new Set(hook.got.map((g) => JSON.stringify(g.body))).size, 1);
    const c = await contact('ops');
    assert.deepEqual([c.state, c.sent, c.failures, c.waiting, c.lastSentAt], ['ok', 1, 2, 0, '2026-03-02T10:00:03.000Z']);
    const a = await node.op('alerts.get', { id: '1' });
    assert.deepEqual(a.notifications.map((n: { contact: string; outcome: string }) => `${n.contact} ${n.outcome}`), ['ops sent']);
    // The DESIGN payload, and what remon adds.
    const body = hook.got[2].body;
    assert.equal(hook.got[2].contentType, 'application/json');
    assert.deepEqual(Object.keys(body), ['alert']);
    const { ack_url: ackUrl, ...alert } = body.alert;
    assert.match(ackUrl, /^http:\/\/127\.0\.0\.1:2001\/ack\/1\.[\w-]{12}\.[0-9a-z]+\.[\w-]{27}$/);
    assert.deepEqual(alert, {
      id: '1', sla: 'db', state: 'firing', severity: 'page', value: 0, since: '2026-03-02T10:00:00.000Z', node: 'testnode', level: 1,
      message: 'db.up (0) == 1 failed for 1m', source: 'sla', labels: {}, started: '2026-03-02T10:00:00.000Z', key: '1:1:0:1|ops|webhook',
    });
  });

  it('webhook: a receiver that never answers 2xx fails the delivery after its attempts, and the alert says so', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/hook`;
    const clock = new FakeClock(T0);
    node = await start(`
notify: { retry: 1s, retry_max: 2s, attempts: 3 }
contacts:
  gone: { webhook: "${dead}" }
escalations:
  default: { levels: [ { notify: [gone] } ], group_wait: 0s }
`, { clock, send: 'real' });
    node.sla('db', 'firing');
    await node.advance(10 * SECOND);
    const a = await node.op('alerts.get', { id: '1' });
    assert.deepEqual(a.notifications.map((n: { outcome: string }) => n.outcome), ['failed']);
    assert.deepEqual(a.history.at(-1), { at: '2026-03-02T10:00:03.000Z', what: 'failed', message: `gone by webhook: POST ${dead}: ECONNREFUSED (after 3 attempts)` });
    const c = await contact('gone');
    assert.deepEqual([c.state, c.failures, c.waiting, c.lastError], ['failing', 3, 0, `POST ${dead}: ECONNREFUSED`]);
    assert.equal(node.alerting.stats().deliveries.failed, 1);
  });

  it('presets: Slack-compatible, Discord, ntfy, PagerDuty Events v2 and a template, each of the shape its receiver takes, for firing, ack and resolution', async () => {
    const [slack, discord, ntfy, pd, tpl] = [await receiver('slack'), await receiver('discord'), await receiver('ntfy'), await receiver('pagerduty'), await receiver('json')];
    const key = 'R0123456789abcdef0123456789abcd'.padEnd(32, 'e');
    const clock = new FakeClock(T0);
    node = await start(`
notify: { url: "https://remon.example.com" }
contacts:
  slack: { webhook: { url: "${slack.url}/services/T0/B0/x", preset: slack } }
  discord: { webhook: { url: "${discord.url}/api/webhooks/1/abc", preset: discord } }
  ntfy: { webhook: { url: "${ntfy.url}/remon-alerts", preset: ntfy } }
  pd: { webhook: { url: "${pd.url}/v2/enqueue", preset: pagerduty, routing_key: ${key} } }
  tpl:
    webhook:
      url: "${tpl.url}/t"
      template: '{"alert": {"id": "{{ alert.id }}", "sla": "{{ alert.sla }}", "state": "{{ alert.state }}", "severity": "{{ alert.severity }}", "value": {{ alert.value | json | raw }}, "since": "{{ alert.since }}", "node": "{{ node }}", "level": {{ alert.level }}, "message": "{{ alert.message }}"}, "title": "{{ title }}"}'
escalations:
  default: { levels: [ { notify: [slack, discord, ntfy, pd, tpl] } ], group_wait: 0s }
`, { clock, send: 'real' });
    const message = 'api "v2" down @everyone: 3 of 3 probes failed';
    node.sla('api', 'firing', { message, value: 0.25 });
    await node.advance(5 * MIN);
    await node.op('alerts.ack', { id: '1', by: 'alice', comment: 'on it' });
    await node.advance(7 * MIN + 30 * SECOND);
    node.sla('api', 'ok', { message: 'api is ok again', value: 0.98 });
    await node.advance(SECOND);
    for (const r of [slack, discord, ntfy, pd, tpl]) assert.deepEqual(r.got.map((g) => g.status < 300), [true, true, true], `${r.url}: ${JSON.stringify(r.got)}`);

    const ack = /https:\/\/remon\.example\.com\/ack\/1\.\S+/;
    const [sf, sa, sr] = slack.got.map((g) => g.body.text as string);
    assert.match(sf, /^\*\[FIRING\] api\*\napi firing \(page\) since 2026-03-02T10:00:00\.000Z: api "v2" down @everyone: 3 of 3 probes failed\nalert 1 on node testnode, escalation level 1\nAcknowledge: https:\/\/remon\.example\.com\/ack\/1\.\S+\n$/);
    assert.equal(sa, '*[ACKNOWLEDGED] api*\napi acknowledged by alice: api "v2" down @everyone: 3 of 3 probes failed\nalert 1 on node testnode\n');
    assert.equal(sr.split('\n')[0], '*[RESOLVED] api after 12m30s*');

    const d = discord.got[0].body;
    assert.deepEqual(d.allowed_mentions, { parse: [] }, 'no @everyone from an alert\'s message');
    assert.match(d.content, /^\*\*\[FIRING\] api\*\*\napi firing/);

    assert.deepEqual(ntfy.got.map((g) => [g.url, g.body.topic, g.body.title, g.body.priority, g.body.tags]), [
      ['/', 'remon-alerts', '[FIRING] api', 5, ['rotating_light']],
      ['/', 'remon-alerts', '[ACKNOWLEDGED] api', 3, ['eyes']],
      ['/', 'remon-alerts', '[RESOLVED] api after 12m30s', 3, ['white_check_mark']],
    ]);
    assert.equal(ntfy.got[0].body.actions.length, 1);
    assert.match(ntfy.got[0].body.actions[0].url, ack);
    assert.equal(ntfy.got[2].body.actions, undefined);

    assert.deepEqual(pd.got.map((g) => [g.url, g.body.event_action, g.body.dedup_key]), [
      ['/v2/enqueue', 'trigger', 'remon/testnode/1'], ['/v2/enqueue', 'acknowledge', 'remon/testnode/1'], ['/v2/enqueue', 'resolve', 'remon/testnode/1'],
    ]);
    const trigger = pd.got[0].body;
    assert.deepEqual([trigger.payload.summary, trigger.payload.source, trigger.payload.severity, trigger.payload.component, trigger.payload.timestamp], [
      `api: ${message}`, 'testnode', 'critical', 'api', '2026-03-02T10:00:00.000Z',
    ]);
    assert.match(trigger.links[0].href, ack);
    assert.equal(pd.got[2].body.payload, undefined);

    // The template's values are JSON-escaped: a message with quotes still makes JSON.
    assert.deepEqual(tpl.got.map((g) => [g.body.alert.state, g.body.alert.message, g.body.alert.value, g.body.title]), [
      ['firing', message, 0.25, '[FIRING] api'],
      ['acknowledged', message, 0.25, '[ACKNOWLEDGED] api'],
      ['resolved', 'api is ok again', 0.98, '[RESOLVED] api after 12m30s'],
    ]);
  });

  it('discord: a long message is cut to the 2000 characters Discord takes', async () => {
    const discord = await receiver('discord');
    node = await start(`
contacts:
  d: { webhook: { url: "${discord.url}/api/webhooks/1/abc", preset: discord } }
escalations:
  default: { levels: [ { notify: [d] } ], group_wait: 0s }
`, { clock: new FakeClock(T0), send: 'real' });
    node.sla('db', 'firing', { message: 'x'.repeat(5000) });
    await node.advance(SECOND);
    assert.deepEqual(discord.got.map((g) => [g.status, g.body.content.length, g.body.content.endsWith('...')]), [[204, 2000, true]]);
  });

  it('a command gets the alert as REMON_ALERT_* variables and JSON on stdin; one that fails or overruns its timeout fails the delivery, and nothing it started is left', async () => {
    const out = tmpDir('remon-cmd-');
    const marker = uniqueMarker();
    const record = `env | grep -E '^REMON_(ALERT|ACK)_' | sort > ${out}/env-$REMON_ALERT_STATE; cat > ${out}/stdin-$REMON_ALERT_STATE`;
    node = await start(`
notify: { attempts: 1 }
contacts:
  pager: { command: ["/bin/sh", "-c", "${record}"] }
  broken: { command: "echo no route to pager >&2; exit 3" }
  slow: { command: "sleep ${marker}", timeout: 300ms }
escalations:
  default: { levels: [ { notify: [pager, broken, slow] } ], group_wait: 0s }
`, { clock: new FakeClock(T0), send: 'real' });
    node.sla('db', 'firing', { message: 'db.up (0) == 1', value: 0, severity: 'ticket', labels: { team: 'db' } });
    await node.advance(SECOND);
    const env = fs.readFileSync(path.join(out, 'env-firing'), 'utf8').trim().split('\n');
    const ackUrl = env.find((l) => l.startsWith('REMON_ACK_URL='));
    assert.match(ackUrl!, /^REMON_ACK_URL=http:\/\/127\.0\.0\.1:2001\/ack\/1\./);
    assert.deepEqual(env.filter((l) => l !== ackUrl), [
      'REMON_ALERT_COUNT=1', 'REMON_ALERT_ID=1', 'REMON_ALERT_LEVEL=1', 'REMON_ALERT_MESSAGE=db.up (0) == 1', 'REMON_ALERT_NODE=testnode',
      'REMON_ALERT_SEVERITY=ticket', 'REMON_ALERT_SINCE=2026-03-02T10:00:00.000Z', 'REMON_ALERT_SLA=db', 'REMON_ALERT_SOURCE=sla',
      'REMON_ALERT_STATE=firing', 'REMON_ALERT_VALUE=0',
    ]);
    const stdin = JSON.parse(fs.readFileSync(path.join(out, 'stdin-firing'), 'utf8'));
    assert.deepEqual([stdin.alert.id, stdin.alert.sla, stdin.alert.labels, stdin.alert.level], ['1', 'db', { team: 'db' }, 1]);
    const a = await node.op('alerts.get', { id: '1' });
    assert.deepEqual(a.notifications.map((n: { contact: string; outcome: string }) => `${n.contact} ${n.outcome}`), ['pager sent', 'broken failed', 'slow failed']);
    const failures = a.history.filter((h: { what: string }) => h.what === 'failed').map((h: { message: string }) => h.message).sort();
    assert.deepEqual(failures, [
      'broken by command: command /bin/sh -c echo no route to pager >&2; exit 3: exit code 3: no route to pager (after 1 attempt)',
      `slow by command: command /bin/sh -c sleep ${marker}: timed out after 300ms (after 1 attempt)`,
    ]);
    assert.deepEqual(processesMatching(`sleep ${marker}`), []);
    // The resolution reaches the command too, with how long it lasted.
    await node.advance(90 * SECOND);
    node.sla('db', 'ok', { message: 'db is up', labels: { team: 'db' } });
    await node.advance(SECOND);
    const resolved = fs.readFileSync(path.join(out, 'env-resolved'), 'utf8');
    assert.match(resolved, /^REMON_ALERT_DURATION_S=91$/m);
    assert.doesNotMatch(resolved, /REMON_ACK_URL/);
  });
});

describe('alerts: e-mail through a real SMTP server, and its ack link', function () {
  this.timeout(30_000);
  // The SMTP server is started by the suite (python3-aiosmtpd), see test/smtp-server.ts.
  let smtp: import('./smtp-server').SmtpServer | undefined;
  let node: AlertsNode | undefined;
  const start = nodesPerTest();
  before(async function () {
    const { hasAiosmtpd, startSmtpServer } = await import('./smtp-server');
    const { requirePeer } = await import('./peers');
    requirePeer(this, 'python3-aiosmtpd', hasAiosmtpd(), 'apt-get install python3-aiosmtpd');
    smtp = await startSmtpServer();
  });
  after(() => smtp?.stop());

  it('mails the alert with a link that acknowledges it once (GET shows it, POST takes it), until it expires', async () => {
    const port = await freePort();
    const clock = new FakeClock(T0);
    node = await start(`
notify:
  smtp: { host: 127.0.0.1, port: ${smtp!.port}, from: "remon <remon@example.com>" }
  ack_link_ttl: 1h
contacts:
  alice: { email: alice@example.com }
escalations:
  default: { levels: [ { notify: [alice] } ], group_wait: 0s }
`, { clock, send: 'real', web: `127.0.0.1:${port}` });
    const base = `http://127.0.0.1:${port}`;
    node.sla('db', 'firing', { message: 'db.up (0) == 1 failed for 1m', value: 0 });
    await node.advance(SECOND);
    const [mail] = smtp!.messages();
    assert.equal(mail.headers.subject, '[FIRING] db');
    assert.equal(mail.headers.from, 'remon <remon@example.com>');
    assert.equal(mail.headers.to, 'alice@example.com');
    assert.equal(mail.headers['x-remon-alert'], '1');
    const link = /^Acknowledge: (\S+)$/m.exec(mail.text)?.[1];
    assert.ok(link?.startsWith(`${base}/ack/1.`), mail.text);
    assert.equal(mail.text, `db firing (page) since 2026-03-02T10:00:00.000Z: db.up (0) == 1 failed for 1m\nalert 1 on node testnode, escalation level 1\nAcknowledge: ${link}\n`);

    // Following the link shows the alert and a button; it acknowledges nothing by itself
    // (mail scanners fetch every link).
    const shown = await fetch(link!);
    const page = await shown.text();
    assert.equal(shown.status, 200);
    assert.equal(shown.headers.get('cache-control'), 'no-store');
    assert.match(page, /<h1>Alert 1: db is firing<\/h1>/);
    assert.match(page, /<form method="post"><button type="submit"[^>]*>Acknowledge alert 1<\/button><\/form>/);
    assert.equal((await node.op('alerts.get', { id: '1' })).state, 'firing');
    // The button: a same-origin POST without a body.
    const taken = await fetch(link!, { method: 'POST', headers: { origin: base, 'sec-fetch-site': 'same-origin' } });
    assert.equal(taken.status, 200);
    assert.match(await taken.text(), /<h1>Alert 1 acknowledged<\/h1>/);
    const a = await node.op('alerts.get', { id: '1' });
    assert.deepEqual([a.state, a.acknowledgedBy], ['acknowledged', 'ack link']);
    // Single use.
    const again = await fetch(link!, { method: 'POST' });
    assert.equal(again.status, 410);
    assert.match(await again.text(), /this ack link was used already; alert 1 is acknowledged/);
    assert.equal((await fetch(link!)).status, 410);
    await node.advance(SECOND);
    assert.deepEqual(smtp!.messages().map((m) => m.headers.subject), ['[FIRING] db', '[ACKNOWLEDGED] db']);
    assert.match(smtp!.messages()[1].text, /^db acknowledged by ack link: db\.up \(0\) == 1 failed for 1m\n/);

    // A link that expired, one that was tampered with, one of a resolved alert.
    node.sla('api', 'firing', { message: 'api down' });
    await node.advance(SECOND);
    const apiLink = /^Acknowledge: (\S+)$/m.exec(smtp!.messages()[2].text)![1];
    // Another alert's id, or another spelling of the signature's last character (20 bytes
    // in 27 characters: its low two bits are spare, so the next character decodes the same).
    const other = apiLink.replace('/ack/2.', '/ack/1.');
    assert.match(apiLink, /[AEIMQUYcgkosw048]$/);
    const respelled = apiLink.slice(0, -1) + String.fromCharCode(apiLink.charCodeAt(apiLink.length - 1) + 1);
    for (const forged of [other, respelled]) {
      const forgedAnswer = await fetch(forged, { method: 'POST' });
      assert.equal(forgedAnswer.status, 410);
      assert.match(await forgedAnswer.text(), /this ack link is not signed by this node \(or its key changed\)/);
    }
    await node.advance(60 * MIN);
    const expired = await fetch(apiLink, { method: 'POST' });
    assert.equal(expired.status, 410);
    assert.match(await expired.text(), /this ack link expired at 2026-03-02T11:00:02\.000Z; acknowledge with remon alerts ack 2/);
    assert.equal((await node.op('alerts.get', { id: '2' })).state, 'firing');

    node.sla('db', 'ok', { message: 'db is up' });
    await node.advance(SECOND);
    const resolved = smtp!.messages().find((m) => m.headers.subject.startsWith('[RESOLVED]'))!;
    assert.equal(resolved.headers.subject, '[RESOLVED] db after 1h3s');
    assert.match(resolved.text, /^db resolved after 1h3s \(fired 2026-03-02T10:00:00\.000Z\): db is up\n/);
    assert.doesNotMatch(resolved.text, /Acknowledge:/);
  });
});
