/**
 * The router's own publications — meta events (`wamp.session.on_join`, `wamp.subscription.*`,
 * `wamp.registration.*`) and `xbar.stats.on_update` — are counted apart (`meta_publications`,
 * `meta_events`) and never listed among the busiest topics: the README tour's one publish shows as
 * one publication, while an operator session watching meta events and statistics is sent plenty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RealmReport } from '../../../src/router/meta/stats-procedures.js';
import type { NodeSnapshot } from '../../../src/stats/snapshot.js';
import { eventually } from '../../helpers/eventually.js';
import { Clients, LIMIT, type MetaNode, startMetaNode } from '../meta/support.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';

describe('the router\'s own publications are counted apart', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  before(async () => {
    t = await startMetaNode({ stats: { interval: 100 } });
    clients = new Clients(t.wsUrl);
  });
  after(async () => {
    await clients.closeAll();
    await t.stop();
  });

  it('shows the tour\'s one publish as one publication, and no meta topic among the busiest', async () => {
    // An operator watching who joins and the statistics, as a console would.
    const operator = await clients.connect();
    const reports: RealmReport[] = [];
    let joins = 0;
    await operator.subscribe('wamp.session.on_join', () => void joins++);
    await operator.subscribe('xbar.stats.on_update', (args) => void reports.push(args![0] as RealmReport));

    // The README's five-minute tour, step by step.
    const sensor = await clients.connect();
    const dashboard = await clients.connect();
    const events: string[] = [];
    await dashboard.subscribe('lab.rig1.', (_args, _kwargs, details) => void events.push(details.topic!), { match: 'prefix' });
    await sensor.publish('lab.rig1.temperature', [21.5], { unit: 'C' }, { acknowledge: true });
    await sensor.register('lab.rig1.calibrate', async (_args, _kwargs, details) => {
      for (let p = 25; p < 100; p += 25) details.progress!([p]);
      return 'done';
    });
    const progress: unknown[] = [];
    // Autobahn|JS's call promise is a when.js promise with .progress (as the tour uses it).
    const call = dashboard.call('lab.rig1.calibrate', [], {}, { receive_progress: true }) as Promise<unknown> & { progress(f: (p: unknown) => void): Promise<unknown> };
    assert.equal(await call.progress((p) => progress.push(p)), 'done');
    assert.equal(progress.length, 3);
    await dashboard.call('wamp.session.count');
    await eventually(() => events.length === 1 && joins >= 2, 'the event and the joins');

    // The sample whose interval held the publication lists it, and only it.
    const withTopic = await eventually(() => reports.find((r) => r.realm!.top_topics.length > 0), 'a report listing a topic');
    assert.deepEqual(withTopic.realm!.top_topics.map((x) => [x.topic, x.publications, x.events]), [['lab.rig1.temperature', 1, 1]]);
    // Enough reports to cover the whole tour, and not one lists a meta topic.
    const last = await eventually(() => reports.length >= 3 && reports.at(-1)!.realm!.totals.calls >= 1 && reports.at(-1), 'reports after the tour');
    for (const r of reports) {
      for (const x of r.realm!.top_topics) assert.ok(!x.topic.startsWith('wamp.') && !x.topic.startsWith('xbar.'), `meta topic ${x.topic} among the busiest`);
    }
    assert.equal(last.realm!.totals.publications, 1);
    assert.equal(last.realm!.totals.events, 1);

    const s = (await (await fetch(`${t.http}/stats.json`)).json()) as NodeSnapshot;
    const r = s.realms[0]!;
    assert.equal(r.totals.publications, 1);
    assert.equal(r.totals.events, 1);
    assert.equal(s.totals.publications, 1);
    // 3 joins, 3 subscription creates + subscribes, a registration create + register, and each report.
    assert.ok(r.totals.meta_publications >= 8 + reports.length, `meta publications ${r.totals.meta_publications}`);
    // The operator was sent the sensor's and the dashboard's joins and every report.
    assert.ok(r.totals.meta_events >= 2 + reports.length, `meta events ${r.totals.meta_events}, reports ${reports.length}`);
    assert.equal(s.totals.meta_events, r.totals.meta_events);

    const m = parsePrometheusText(await (await fetch(`${t.http}/metrics`)).text());
    assert.equal(valueOf(m, 'xbar_realm_publications_total', 'xbar_realm_publications_total', { realm: 'realm1' }), 1);
    assert.equal(valueOf(m, 'xbar_realm_events_sent_total', 'xbar_realm_events_sent_total', { realm: 'realm1' }), 1);
    assert.ok(valueOf(m, 'xbar_realm_meta_publications_total', 'xbar_realm_meta_publications_total', { realm: 'realm1' })! >= r.totals.meta_publications);
    assert.ok(valueOf(m, 'xbar_realm_meta_events_sent_total', 'xbar_realm_meta_events_sent_total', { realm: 'realm1' })! >= r.totals.meta_events);
  });
});
