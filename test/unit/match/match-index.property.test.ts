/**
 * Property test: the tries agree with a brute-force scan written from the spec's words,
 * for random patterns and topics over a small alphabet (seeded, so failures reproduce).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatchIndex, type MatchPolicy } from '../../../src/match/match-index.js';
import { mulberry32, randomPattern, randomTopic } from './random.js';

interface Pattern {
  readonly uri: string;
  readonly policy: MatchPolicy;
}

/** The three rules, one pattern at a time. */
function bruteMatches(pattern: Pattern, topic: string): boolean {
  switch (pattern.policy) {
    case 'exact':
      return pattern.uri === topic;
    case 'prefix':
      return topic.startsWith(pattern.uri);
    case 'wildcard': {
      const p = pattern.uri.split('.');
      const t = topic.split('.');
      return p.length === t.length && p.every((c, i) => c === '' || c === t[i]);
    }
  }
}

/**
 * "the longest portion of URI components matched before each wildcard": the lengths of the
 * runs of concrete components before each wildcard, in order (and the run after the last one),
 * compared run by run; the longer run wins at the first difference.
 */
function portions(pattern: string): number[] {
  const runs: number[] = [];
  let run = 0;
  for (const c of pattern.split('.')) {
    if (c === '') {
      runs.push(run);
      run = 0;
    } else {
      run++;
    }
  }
  runs.push(run);
  return runs;
}

function compareWildcards(a: string, b: string): number {
  const pa = portions(a);
  const pb = portions(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pb[i]! - pa[i]!; // negative: a ranks first
  }
  return pa.length - pb.length;
}

function bruteBest(patterns: readonly Pattern[], topic: string): Pattern | undefined {
  const found = patterns.filter((p) => bruteMatches(p, topic));
  const exact = found.find((p) => p.policy === 'exact');
  if (exact !== undefined) return exact;
  const prefixes = found.filter((p) => p.policy === 'prefix').sort((x, y) => y.uri.length - x.uri.length);
  if (prefixes.length > 0) return prefixes[0];
  const wild = found.filter((p) => p.policy === 'wildcard').sort((x, y) => compareWildcards(x.uri, y.uri));
  if (wild.length > 1) assert.notEqual(compareWildcards(wild[0]!.uri, wild[1]!.uri), 0, `tie for ${topic}`);
  return wild[0];
}

const key = (uri: string, policy: MatchPolicy): string => `${policy}:${uri}`;

describe('MatchIndex agrees with a brute-force scan', () => {
  const rand = mulberry32(20240611);
  const index = new MatchIndex<string>();
  const byKey = new Map<string, Pattern>();
  // 2,000 draws per policy; duplicates collapse into one key, as they do in a router.
  for (const each of ['exact', 'prefix', 'wildcard'] as const) {
    for (let i = 0; i < 2000; i++) {
      const [uri, policy] = randomPattern(rand, each);
      index.set(uri, policy, key(uri, policy));
      byKey.set(key(uri, policy), { uri, policy });
    }
  }
  const patterns = [...byKey.values()];
  const topics = Array.from({ length: 2000 }, () => randomTopic(rand));

  it('stores each distinct (uri, policy) once', () => {
    assert.equal(index.size, patterns.length);
    for (const policy of ['exact', 'prefix', 'wildcard'] as const) {
      assert.ok(patterns.filter((p) => p.policy === policy).length > 150, `too few ${policy} patterns`);
    }
  });

  it('forEachMatch reports exactly the patterns the brute-force scan finds, for 2,000 topics', () => {
    let total = 0;
    for (const topic of topics) {
      const got: string[] = [];
      index.forEachMatch(topic, (value, policy, uri) => {
        assert.equal(value, key(uri, policy));
        got.push(value);
      });
      const want = patterns.filter((p) => bruteMatches(p, topic)).map((p) => key(p.uri, p.policy));
      assert.deepEqual(got.sort(), want.sort(), topic);
      total += want.length;
    }
    assert.ok(total > topics.length, 'the alphabet should make topics match several patterns');
  });

  it('best() picks what the spec precedence picks, for 2,000 topics', () => {
    let routed = 0;
    for (const topic of topics) {
      const want = bruteBest(patterns, topic);
      const got = index.best(topic);
      assert.deepEqual(
        got === undefined ? undefined : { uri: got.uri, policy: got.policy },
        want === undefined ? undefined : { uri: want.uri, policy: want.policy },
        topic,
      );
      if (got !== undefined) routed++;
    }
    assert.ok(routed > 0);
  });

  it('best() ranks wildcards by the spec alone when only wildcards are stored', () => {
    const wildOnly = patterns.filter((p) => p.policy === 'wildcard');
    const w = new MatchIndex<string>();
    for (const p of wildOnly) w.set(p.uri, p.policy, p.uri);
    let contested = 0;
    for (const topic of topics) {
      const want = bruteBest(wildOnly, topic);
      assert.equal(w.best(topic)?.uri, want?.uri, topic);
      if (wildOnly.filter((p) => bruteMatches(p, topic)).length > 1) contested++;
    }
    assert.ok(contested > 100, 'enough topics should match several wildcards');
  });
});
