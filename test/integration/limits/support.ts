/** Shared pieces of the limits tests: a node with `limits`, its refusal counters, the refusal check. */
import assert from 'node:assert/strict';
import type autobahn from 'autobahn';
import { ALLOW_ALL, realm, startDoc, tcp, type AuthNode } from '../auth/support.js';

export const LIMIT = 'xbar.error.limit_exceeded';

/** A node with realm1 (anonymous may do everything), `/ws` and `/metrics`, and these `limits`. */
export function limitedNode(limits: Record<string, unknown> = {}): Promise<AuthNode> {
  return startDoc({
    realms: [realm('realm1', { anonymous: [ALLOW_ALL] })],
    transports: [{ type: 'web', endpoint: tcp(), paths: { ws: { type: 'websocket' }, metrics: { type: 'metrics' } } }],
  }, { top: { limits } });
}

/** `xbar_limit_refusals_total{limit}` as /metrics reports it. */
export async function refusals(n: AuthNode, limit: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${n.ports[0]}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`xbar_limit_refusals_total{limit="${limit}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** An assert.rejects check: ERROR xbar.error.limit_exceeded naming `limits.<key>` and its `max`. */
export const overLimit = (key: string, max: number) => (e: autobahn.Error): boolean => {
  assert.equal(e.error, LIMIT);
  assert.match(String(e.args[0]), new RegExp(`\\(at most ${max}, limits\\.${key}\\)$`));
  assert.deepEqual(e.kwargs, { limit: key, max });
  return true;
};
