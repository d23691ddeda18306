/**
 * Client addresses behind proxies: network lists (CIDR, IPv4-mapped IPv6), X-Forwarded-For
 * elements, and the right-to-left walk that believes only hops reported by trusted proxies.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { clientAddress, hopAddress, resolveForwarded } from '../../../src/network/client-address.js';
import { networkError, NetworkList } from '../../../src/network/networks.js';

const request = (peer: string, xff?: string | string[]) =>
  ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: peer } }) as unknown as IncomingMessage;

describe('network lists', () => {
  it('match addresses and networks of both families, and IPv4-mapped IPv6 against IPv4 networks', () => {
    const l = new NetworkList(['10.0.0.0/8', '127.0.2.7', '2001:db8::/32', '::1']);
    for (const a of ['10.1.2.3', '127.0.2.7', '::ffff:10.9.9.9', '2001:db8:1::5', '::1', '::1%lo']) assert.ok(l.contains(a), a);
    for (const a of ['11.0.0.1', '127.0.2.8', '2001:db9::1', '::2', 'localhost', '', undefined]) assert.ok(!l.contains(a), String(a));
  });

  it('name what is wrong with an entry', () => {
    assert.equal(networkError('10.0.0.0/8'), undefined);
    assert.match(networkError('10.0.0.0/40') ?? '', /prefix length must be 0-32/);
    assert.match(networkError('10.0.0.0/') ?? '', /prefix length/);
    assert.match(networkError('example.com') ?? '', /not an IPv4 or IPv6 address/);
    assert.throws(() => new NetworkList(['nope']), /not an IPv4 or IPv6 address/);
  });
});

describe('X-Forwarded-For', () => {
  it('reads the element forms proxies write', () => {
    assert.equal(hopAddress(' 127.0.2.7 '), '127.0.2.7');
    assert.equal(hopAddress('127.0.2.7:5555'), '127.0.2.7');
    assert.equal(hopAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(hopAddress('[2001:db8::1]:443'), '2001:db8::1');
    for (const bad of ['unknown', '_hidden', '', '1.2.3', '[::1', '999.1.1.1']) assert.equal(hopAddress(bad), undefined, bad);
  });

  it('believes hops only while the reporting address is trusted, from the right', () => {
    const trusted = new NetworkList(['127.10.0.0/16']);
    assert.equal(resolveForwarded(request('127.10.0.1', '127.0.2.7'), trusted), '127.0.2.7');
    assert.equal(resolveForwarded(request('127.10.0.1', '127.51.100.1, 127.0.2.7, 127.10.0.2'), trusted), '127.0.2.7');
    assert.equal(resolveForwarded(request('127.10.0.1', ['127.51.100.1', '127.0.2.7']), trusted), '127.0.2.7', 'repeated headers');
    assert.equal(resolveForwarded(request('127.10.0.1', '127.10.0.3, 127.10.0.2'), trusted), '127.10.0.3', 'all trusted: the leftmost');
    assert.equal(resolveForwarded(request('127.10.0.1', '127.0.2.7, unknown'), trusted), undefined, 'trust stops at an unreadable hop');
    assert.equal(resolveForwarded(request('127.0.2.9', '127.10.0.5'), trusted), undefined, 'an untrusted peer\'s header is ignored');
    assert.equal(resolveForwarded(request('127.10.0.1'), trusted), undefined);
    assert.equal(resolveForwarded(request('127.10.0.1', '127.0.2.7'), undefined), undefined, 'no trusted proxies configured');
    const req = request('127.10.0.1', '127.0.2.7');
    assert.equal(clientAddress(req), '127.10.0.1');
    resolveForwarded(req, trusted);
    assert.equal(clientAddress(req), '127.0.2.7');
  });
});
