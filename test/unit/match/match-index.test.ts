import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatchIndex, type MatchPolicy } from '../../../src/match/match-index.js';
import { mulberry32, randomPattern } from './random.js';

function matches(index: MatchIndex<string>, topic: string): string[] {
  const out: string[] = [];
  index.forEachMatch(topic, (value, policy, uri) => out.push(`${policy}:${uri}=${value}`));
  return out.sort();
}

function indexOf(entries: ReadonlyArray<readonly [string, MatchPolicy]>): MatchIndex<string> {
  const index = new MatchIndex<string>();
  entries.forEach(([uri, policy], i) => index.set(uri, policy, String(i + 1)));
  return index;
}

describe('MatchIndex: exact', () => {
  it('matches an exact URI only when topic === uri', () => {
    const index = indexOf([['com.foo', 'exact']]);
    assert.deepEqual(matches(index, 'com.foo'), ['exact:com.foo=1']);
    assert.deepEqual(matches(index, 'com.foo.bar'), []);
    assert.deepEqual(matches(index, 'com.fo'), []);
  });
});

describe('MatchIndex: prefix', () => {
  it('matches prefix com.foo against com.foobar, as WAMP compares strings', () => {
    const index = indexOf([['com.foo', 'prefix']]);
    assert.deepEqual(matches(index, 'com.foobar'), ['prefix:com.foo=1']);
  });

  it('matches prefix com.foo against com.foo.bar and com.foo itself', () => {
    const index = indexOf([['com.foo', 'prefix']]);
    assert.deepEqual(matches(index, 'com.foo.bar'), ['prefix:com.foo=1']);
    assert.deepEqual(matches(index, 'com.foo'), ['prefix:com.foo=1']);
  });

  it('does not match a topic shorter than the prefix (spec: com.myapp.topic.emerge)', () => {
    const index = indexOf([['com.myapp.topic.emergency', 'prefix']]);
    assert.deepEqual(matches(index, 'com.myapp.topic.emerge'), []);
    assert.equal(matches(index, 'com.myapp.topic.emergency-low').length, 1);
  });

  it('matches the empty prefix against every topic', () => {
    const index = indexOf([['', 'prefix']]);
    for (const topic of ['a', 'com.example.x', '']) assert.deepEqual(matches(index, topic), ['prefix:=1']);
  });
});

describe('MatchIndex: wildcard', () => {
  it('matches com..update against com.x.update', () => {
    const index = indexOf([['com..update', 'wildcard']]);
    assert.deepEqual(matches(index, 'com.x.update'), ['wildcard:com..update=1']);
  });

  it('does not match com..update against com.x.y.update (component counts differ)', () => {
    const index = indexOf([['com..update', 'wildcard']]);
    assert.deepEqual(matches(index, 'com.x.y.update'), []);
    assert.deepEqual(matches(index, 'com.update'), []);
  });

  it('lets consecutive empty components each match one component', () => {
    const index = indexOf([['a...d', 'wildcard']]);
    assert.deepEqual(matches(index, 'a.b.c.d'), ['wildcard:a...d=1']);
    assert.deepEqual(matches(index, 'a.b.d'), []);
  });

  it('requires non-empty components to be equal, not prefixes', () => {
    const index = indexOf([['com..update', 'wildcard']]);
    assert.deepEqual(matches(index, 'com.x.updates'), []);
  });
});

describe('MatchIndex: every match for a publication', () => {
  it('reports a topic once per matching subscription, across policies', () => {
    const index = indexOf([
      ['com.a.b', 'exact'],
      ['com.a.b', 'prefix'],
      ['com.a.b', 'wildcard'],
      ['com', 'prefix'],
      ['com..b', 'wildcard'],
      ['com.a', 'exact'],
    ]);
    assert.deepEqual(matches(index, 'com.a.b'), [
      'exact:com.a.b=1',
      'prefix:com.a.b=2',
      'prefix:com=4',
      'wildcard:com..b=5',
      'wildcard:com.a.b=3',
    ]);
  });
});

describe('MatchIndex: best match for a call', () => {
  it('prefers an exact registration over prefix and wildcard ones', () => {
    const index = indexOf([['a.b', 'prefix'], ['a.', 'wildcard'], ['a.b', 'exact']]);
    assert.deepEqual(index.best('a.b'), { value: '3', policy: 'exact', uri: 'a.b' });
  });

  it('prefers the longest prefix, then any prefix over a wildcard', () => {
    const index = indexOf([['a.b.c', 'wildcard'], ['a', 'prefix'], ['a.b', 'prefix']]);
    assert.deepEqual(index.best('a.b.c'), { value: '3', policy: 'prefix', uri: 'a.b' });
    index.delete('a.b', 'prefix');
    assert.equal(index.best('a.b.c')?.uri, 'a');
    index.delete('a', 'prefix');
    assert.equal(index.best('a.b.c')?.policy, 'wildcard');
  });

  it('prefers a1.b2..d4 over a1...d4 for a1.b2.c3.d4 (longer first portion)', () => {
    const index = indexOf([['a1...d4', 'wildcard'], ['a1.b2..d4', 'wildcard']]);
    assert.equal(index.best('a1.b2.c3.d4')?.uri, 'a1.b2..d4');
  });

  it('prefers the pattern with fewer wildcards when the portions before the first agree', () => {
    const index = indexOf([['a..c.', 'wildcard'], ['a..c.d', 'wildcard']]);
    assert.equal(index.best('a.b.c.d')?.uri, 'a..c.d');
  });

  it('routes the spec examples of "Calls matching multiple registrations" as the spec says', () => {
    // rfc/text/advanced/ap_rpc_pattern_based_registration.md, registrations 1-7.
    const index = indexOf([
      ['a1.b2.c3.d4.e55', 'exact'],
      ['a1.b2.c3', 'prefix'],
      ['a1.b2.c3.d4', 'prefix'],
      ['a1.b2..d4.e5', 'wildcard'],
      ['a1.b2.c3..e5', 'wildcard'],
      ['a1.b2..d4.e5..g7', 'wildcard'],
      ['a1.b2..d4..f6.g7', 'wildcard'],
    ]);
    assert.equal(index.best('a1.b2.c3.d4.e55')?.value, '1');
    assert.equal(index.best('a1.b2.c3.d98.e74')?.value, '2');
    assert.equal(index.best('a1.b2.c3.d4.e325')?.value, '3');
    assert.equal(index.best('a1.b2.c55.d4.e5')?.value, '4');
    assert.equal(index.best('a1.b2.c88.d4.e5.f6.g7')?.value, '6');
    assert.equal(index.best('a2.b2.c2.d2.e2'), undefined);
  });

  it('prefers a1.b2.c3..e5 over a1.b2..d4.e5 for a1.b2.c3.d4.e5 (spec example 5, wildcards alone)', () => {
    // The spec lists this call as "no prefix match", but its prefix registrations 2 and 3
    // (a1.b2.c3, a1.b2.c3.d4) do match it and would win by rule 2; the older text's variant
    // (a1.b2.c33..e5, call a1.b2.c33.d4.e5) has the same flaw for string prefixes. So the
    // wildcard ranking it illustrates is checked without the prefixes.
    const index = indexOf([['a1.b2..d4.e5', 'wildcard'], ['a1.b2.c3..e5', 'wildcard']]);
    assert.equal(index.best('a1.b2.c3.d4.e5')?.uri, 'a1.b2.c3..e5');
    index.set('a1.b2.c3', 'prefix', 'p');
    assert.equal(index.best('a1.b2.c3.d4.e5')?.policy, 'prefix');
  });
});

describe('MatchIndex: storage', () => {
  it('keeps one value per (uri, policy) and replaces it on set', () => {
    const index = new MatchIndex<string>();
    index.set('a.b', 'exact', 'x');
    index.set('a.b', 'prefix', 'y');
    index.set('a.b', 'exact', 'z');
    assert.equal(index.size, 2);
    assert.equal(index.get('a.b', 'exact'), 'z');
    assert.equal(index.get('a.b', 'prefix'), 'y');
    assert.equal(index.get('a.b', 'wildcard'), undefined);
    assert.deepEqual([...index.values()].sort(), ['y', 'z']);
  });

  it('get looks up a stored key, not a match', () => {
    const index = indexOf([['a', 'prefix'], ['a.', 'wildcard']]);
    assert.equal(index.get('a.b', 'prefix'), undefined);
    assert.equal(index.get('a.b', 'wildcard'), undefined);
  });

  it('delete reports whether the key was stored', () => {
    const index = indexOf([['a.b', 'wildcard']]);
    assert.equal(index.delete('a.b', 'exact'), false);
    assert.equal(index.delete('a.b', 'wildcard'), true);
    assert.equal(index.delete('a.b', 'wildcard'), false);
    assert.equal(index.size, 0);
  });

  it('returns to zero trie nodes after adding and deleting 10,000 random patterns', () => {
    const rand = mulberry32(7);
    const index = new MatchIndex<number>();
    const keys: Array<[string, MatchPolicy]> = [];
    for (let i = 0; i < 10_000; i++) {
      const [uri, policy] = randomPattern(rand);
      if (index.get(uri, policy) === undefined) keys.push([uri, policy]);
      index.set(uri, policy, i);
    }
    assert.equal(index.size, keys.length);
    assert.ok(index.nodeCount() > 0);
    // Delete in a shuffled order so inner nodes go before and after their descendants.
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    for (const [uri, policy] of keys) assert.equal(index.delete(uri, policy), true);
    assert.equal(index.size, 0);
    assert.equal(index.nodeCount(), 0);
    assert.deepEqual([...index.values()], []);
  });

  it('does not grow under churn: the node count depends on what is stored, not on history', () => {
    const rand = mulberry32(11);
    const stable = new MatchIndex<number>();
    const churned = new MatchIndex<number>();
    const kept: Array<[string, MatchPolicy]> = [];
    for (let i = 0; i < 500; i++) kept.push(randomPattern(rand));
    for (const [uri, policy] of kept) stable.set(uri, policy, 0);
    for (const [uri, policy] of kept) churned.set(uri, policy, 0);
    for (let round = 0; round < 20; round++) {
      const extra: Array<[string, MatchPolicy]> = [];
      for (let i = 0; i < 500; i++) {
        const p = randomPattern(rand);
        if (churned.get(p[0], p[1]) === undefined) {
          churned.set(p[0], p[1], 1);
          extra.push(p);
        }
      }
      for (const [uri, policy] of extra) churned.delete(uri, policy);
    }
    assert.equal(churned.size, stable.size);
    assert.equal(churned.nodeCount(), stable.nodeCount());
  });
});
