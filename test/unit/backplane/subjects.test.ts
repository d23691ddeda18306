import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeToken, encodeToken, Subjects } from '../../../src/backplane/nats/subjects.js';
import { subjectMatches } from '../../../src/backplane/nats/replay.js';
import { prng } from '../../helpers/prng.js';


const ALPHABET = ['a', 'Z', '0', '_', '-', '*', '>', '$', '~', ' ', 'ü', '€', '😀', '/', '\\', '%', 'é', '.'];

describe('NATS subject encoding of WAMP URIs', () => {
  it('round-trips every generated URI component, and no encoded token is a NATS wildcard or has a dot', () => {
    const rand = prng(20261123);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      const n = Math.floor(rand() * 8);
      for (let k = 0; k < n; k++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
      const t = encodeToken(s);
      assert.match(t, /^[A-Za-z0-9_~-]+$/, `token for ${JSON.stringify(s)}`);
      assert.notEqual(t, '*');
      assert.notEqual(t, '>');
      assert.equal(decodeToken(t), s);
    }
  });

  it('maps subscriptions to the subjects that carry every event they can match', () => {
    const s = new Subjects('c1');
    assert.equal(s.interest('realm1', 'com.foo.bar', 'exact'), 'xbar.c1.ev.realm1.com.foo.bar');
    assert.equal(s.interest('realm1', 'com..bar', 'wildcard'), 'xbar.c1.ev.realm1.com.*.bar');
    // WAMP prefixes compare strings: "com.foo" matches "com.foobar", so the partial last component is dropped.
    assert.equal(s.interest('realm1', 'com.foo', 'prefix'), 'xbar.c1.ev.realm1.com.>');
    assert.equal(s.interest('realm1', 'com.foo.', 'prefix'), 'xbar.c1.ev.realm1.com.foo.>');
    assert.equal(s.interest('realm1', '', 'prefix'), 'xbar.c1.ev.realm1.>');
    assert.equal(s.interest('my.realm', 'a', 'exact'), 'xbar.c1.ev.my~2Erealm.a');
  });

  it('routes each generated topic to the subjects of the subscriptions that match it', () => {
    const rand = prng(7);
    const s = new Subjects('c');
    const comps = ['a', 'b', 'c*', 'd>', 'é'];
    const uri = (n: number) => Array.from({ length: n }, () => comps[Math.floor(rand() * comps.length)]).join('.');
    for (let i = 0; i < 2000; i++) {
      const topic = uri(1 + Math.floor(rand() * 4));
      const subject = s.event('r', topic);
      assert.equal(s.topicOf(subject, 'r'), topic);
      assert.ok(subjectMatches(s.interest('r', topic, 'exact'), subject));
      const prefix = topic.slice(0, Math.floor(rand() * (topic.length + 1)));
      assert.ok(subjectMatches(s.interest('r', prefix, 'prefix'), subject), `prefix ${prefix} of ${topic}`);
      const wild = topic.split('.').map((p) => (rand() < 0.4 ? '' : p)).join('.');
      assert.ok(subjectMatches(s.interest('r', wild, 'wildcard'), subject), `wildcard ${wild} of ${topic}`);
    }
  });
});
