/**
 * Retained events are bounded in bytes per realm and testaments in bytes per session
 * (`limits.max_retained_bytes_per_realm`, `limits.max_testament_bytes_per_session`): a
 * publication or testament that would pass the bound is refused with ERROR
 * `xbar.error.limit_exceeded` naming the key, and counted; what is held still works. Defaults
 * (64 MiB, 1 MiB) hold without any config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import type { AuthNode } from '../auth/support.js';
import { limitedNode, overLimit, refusals } from './support.js';

/**
 * The retained event a new subscriber to `topic` gets, or undefined: a marker published after the
 * subscription comes after any retained event on the same connection, so the first event tells.
 */
async function retainedOf(url: string, publisher: AutobahnClient, topic: string): Promise<unknown> {
  const c = await connectAutobahn(url);
  try {
    let first!: (v: unknown) => void;
    const got = new Promise((resolve) => (first = resolve));
    await c.session.subscribe(topic, (args) => first(args![0]), { get_retained: true });
    await publisher.session.publish(topic, ['(marker)'], {}, { acknowledge: true });
    const v = await got;
    return v === '(marker)' ? undefined : v;
  } finally {
    await c.close();
  }
}

describe('byte bounds', () => {
  let n: AuthNode;
  let url: string;
  let c: AutobahnClient;

  before(async () => {
    n = await limitedNode({ max_retained_bytes_per_realm: 2000, max_testament_bytes_per_session: 1000 });
    url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    c = await connectAutobahn(url);
  });

  after(async () => {
    await c.close();
    await n.stop();
  });

  it('refuses a retained publication that would take the realm past max_retained_bytes_per_realm', async () => {
    const big = 'x'.repeat(590);
    for (const t of ['r.one', 'r.two', 'r.three']) await c.session.publish(t, [big], {}, { retain: true, acknowledge: true });
    await assert.rejects(c.session.publish('r.four', [big], {}, { retain: true, acknowledge: true })!, overLimit('max_retained_bytes_per_realm', 2000));
    assert.equal(await retainedOf(url, c, 'r.four'), undefined, 'the refused publication is not retained');
    // Without retain it is published as usual; replacing a retained event frees its bytes.
    await c.session.publish('r.four', [big], {}, { acknowledge: true });
    await c.session.publish('r.one', ['small'], {}, { retain: true, acknowledge: true });
    await c.session.publish('r.four', [big], {}, { retain: true, acknowledge: true });
    assert.equal(await retainedOf(url, c, 'r.one'), 'small');
    assert.equal(await retainedOf(url, c, 'r.four'), big);
    assert.equal(await refusals(n, 'max_retained_bytes_per_realm'), 1);
  });

  it('refuses a testament that would take the session past max_testament_bytes_per_session; flushing frees it', async () => {
    const s = await connectAutobahn(url);
    const add = (text: string) => s.session.call('wamp.session.add_testament', ['t.gone', [text], {}]);
    await add('y'.repeat(400));
    await add('y'.repeat(400));
    await assert.rejects(add('y'.repeat(400)), overLimit('max_testament_bytes_per_session', 1000));
    assert.equal(await s.session.call('wamp.session.flush_testaments', [], { scope: 'destroyed' }), 2);
    await add('z'.repeat(400));
    // The session's testament is published when it leaves.
    let heard!: (v: unknown) => void;
    const gone = new Promise((resolve) => (heard = resolve));
    await c.session.subscribe('t.gone', (args) => heard(args![0]));
    await s.close();
    assert.equal(await gone, 'z'.repeat(400));
    assert.equal(await refusals(n, 'max_testament_bytes_per_session'), 1);
  });
});

describe('byte bounds by default', () => {
  it('retains at most 64 MiB per realm and 1 MiB of testaments per session without config', async () => {
    const n = await limitedNode();
    try {
      const url = `ws://127.0.0.1:${n.ports[0]}/ws`;
      const c = await connectAutobahn(url);
      const mib15 = 'x'.repeat(15 * 1024 * 1024);
      for (let i = 0; i < 4; i++) await c.session.publish(`d.r${i}`, [mib15], {}, { retain: true, acknowledge: true });
      await assert.rejects(c.session.publish('d.r4', [mib15], {}, { retain: true, acknowledge: true })!, overLimit('max_retained_bytes_per_realm', 64 * 1024 * 1024));
      const add = () => c.session.call('wamp.session.add_testament', ['d.gone', ['y'.repeat(600 * 1024)], {}]);
      await add();
      await assert.rejects(add(), overLimit('max_testament_bytes_per_session', 1024 * 1024));
      await c.close();
    } finally {
      await n.stop();
    }
  });
});
