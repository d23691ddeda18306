/**
 * MQTT topic filters as WAMP subscriptions: the table of Crossbar.io's mapping
 * (crossbar/bridge/mqtt/test/test_topic.py) where it is right, MQTT's own rules where Crossbar.io
 * is not (`#` matches the parent level; `+` with `#`), and a property test that the router's
 * matching of the mapped subscriptions agrees with MQTT's matching as the spec words it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatchIndex } from '../../../src/match/match-index.js';
import {
  filterToWamp, isValidTopicFilter, isValidTopicName, sharedFilter, TopicNames, TopicNamesOut, topicToUri, uriToTopic,
} from '../../../src/mqtt/topics.js';
import { prng } from '../../helpers/prng.js';

/** MQTT 3.1.1 §4.7 / MQTT 5 §4.7, level by level. */
function mqttMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // also the parent level: "sport/#" matches "sport" (MQTT-4.7.1-2)
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** What the router delivers for a filter: its WAMP subscriptions matched by the broker's index, then the gateway's check. */
function routed(filter: string, topic: string): boolean {
  const mapped = filterToWamp(filter, 'loose');
  assert.ok(mapped, `filter ${filter} maps`);
  const index = new MatchIndex<number>();
  mapped.subscriptions.forEach((s, i) => index.set(s.uri, s.match, i));
  let hits = 0;
  index.forEachMatch(topicToUri(topic, 'loose')!, () => hits++);
  assert.ok(hits <= 1, `the WAMP subscriptions of ${filter} overlap on ${topic}`);
  return hits === 1 && (mapped.check?.(topicToUri(topic, 'loose')!) ?? true);
}

describe('MQTT topics and WAMP URIs', () => {
  it('maps the level separator both ways, as Crossbar.io', () => {
    assert.equal(topicToUri('com/example/topic1', 'loose'), 'com.example.topic1');
    assert.equal(uriToTopic('com.example.topic1'), 'com/example/topic1');
    assert.equal(topicToUri('foobar', 'loose'), 'foobar');
  });

  it('cannot route topics WAMP URIs cannot express (empty levels, whitespace)', () => {
    for (const t of ['/tennis/player1', 'tennis/player1/', 'tennis//player1', 'spo oh rt', 'a/b c']) {
      assert.equal(topicToUri(t, 'loose'), undefined, t);
    }
    assert.equal(topicToUri('Upper/Case', 'strict'), undefined);
  });

  it('knows well-formed topic names and filters', () => {
    assert.ok(isValidTopicName('a/b'));
    for (const t of ['', 'a/+', 'a/#', 'a\u0000b']) assert.ok(!isValidTopicName(t), t);
    for (const f of ['#', '+', 'a/#', '+/+', 'a/+/b/#', '+/#']) assert.ok(isValidTopicFilter(f), f);
    for (const f of ['', 'sport/tennis#', 'sport/tennis/#/ranking', '##', '++', 'sport+', 'sport/+ab/player1', 'a\u0000']) {
      assert.ok(!isValidTopicFilter(f), f);
    }
  });

  it('maps filters onto exact, wildcard and prefix subscriptions', () => {
    const cases: [string, [string, string][]][] = [
      ['foobar', [['foobar', 'exact']]],
      ['com/example/topic1', [['com.example.topic1', 'exact']]],
      ['sport/tennis/player1/#', [['sport.tennis.player1.', 'prefix'], ['sport.tennis.player1', 'exact']]],
      ['#', [['', 'prefix']]],
      ['+', [['', 'wildcard']]],
      ['+/tennis/player1', [['.tennis.player1', 'wildcard']]],
      ['sport/+/player1', [['sport..player1', 'wildcard']]],
      ['sport/tennis/+', [['sport.tennis.', 'wildcard']]],
      ['+/+/+', [['..', 'wildcard']]],
      ['sport/+/#', [['sport.', 'prefix']]],
      ['+/#', [['', 'prefix']]],
    ];
    for (const [filter, subs] of cases) {
      assert.deepEqual(filterToWamp(filter, 'loose')!.subscriptions.map((s) => [s.uri, s.match]), subs, filter);
    }
  });

  it('"#" also matches the parent level; "+" exactly one level', () => {
    assert.ok(routed('sport/#', 'sport'));
    assert.ok(routed('sport/#', 'sport/tennis/player1'));
    assert.ok(!routed('sport/#', 'sports'));
    assert.ok(routed('sport/+', 'sport/tennis'));
    assert.ok(!routed('sport/+', 'sport'));
    assert.ok(!routed('sport/+', 'sport/tennis/player1'));
    assert.ok(routed('sport/+/#', 'sport/tennis'));
    assert.ok(!routed('sport/+/#', 'sport'));
    assert.ok(routed('+/#', 'a'));
  });

  it('refuses filters WAMP cannot express', () => {
    for (const f of ['sport/ /#', 'tennis//player1', '/tennis/#', 'a b/+']) assert.equal(filterToWamp(f, 'loose'), undefined, f);
  });

  it('parses $share/<group>/<filter>', () => {
    assert.deepEqual(sharedFilter('$share/g1/a/+'), { group: 'g1', filter: 'a/+' });
    assert.equal(sharedFilter('a/b'), undefined);
    for (const f of ['$share/', '$share//a', '$share/g+/a', '$share/g', '$share/g/a/#/b']) assert.equal(sharedFilter(f), 'invalid', f);
  });

  it('delivers exactly what MQTT matching says, for random filters and topics', () => {
    const rand = prng(16);
    const levels = ['a', 'b', 'ab'];
    const pick = () => levels[Math.floor(rand() * levels.length)]!;
    for (let n = 0; n < 3000; n++) {
      const depth = 1 + Math.floor(rand() * 4);
      const f: string[] = [];
      for (let i = 0; i < depth; i++) f.push(rand() < 0.3 ? '+' : pick());
      if (rand() < 0.35) f.push('#');
      const topic = Array.from({ length: 1 + Math.floor(rand() * 5) }, pick).join('/');
      const filter = f.join('/');
      assert.equal(routed(filter, topic), mqttMatches(filter, topic), `${filter} vs ${topic}`);
    }
  });
});

describe('remembered topic names', () => {
  it('maps as topicToUri does, within its bound', () => {
    const names = new TopicNames('strict', 3);
    for (const name of ['a/b', 'a//b', '/a', 'a b', 'a/b', 'c', 'd', 'e', 'a//b', 'x'.repeat(300) + '/y', 'x'.repeat(300) + '/y']) {
      assert.equal(names.uri(name), topicToUri(name, 'strict'), name);
    }
    assert.ok(names.size <= 3);
    const long = new TopicNames('strict');
    long.uri('x'.repeat(300));
    assert.equal(long.size, 0, 'a long name is not remembered');
  });

  it('maps URIs to topic names as uriToTopic does, within its bound', () => {
    const names = new TopicNamesOut(3);
    for (const uri of ['a.b', 'a..b', 'a', 'a.b', 'c', 'd', 'e', 'a..b', 'x'.repeat(300) + '.y', 'x'.repeat(300) + '.y']) {
      assert.equal(names.name(uri), uriToTopic(uri), uri);
    }
    assert.ok(names.size <= 3);
    const long = new TopicNamesOut();
    long.name('x'.repeat(300));
    assert.equal(long.size, 0, 'a long URI is not remembered');
  });
});
