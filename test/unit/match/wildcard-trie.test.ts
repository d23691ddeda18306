import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WildcardTrie } from '../../../src/match/wildcard-trie.js';

function matches(trie: WildcardTrie<number>, topic: string): string[] {
  const out: string[] = [];
  trie.forEachMatch(topic, (e) => out.push(e.uri));
  return out.sort();
}

describe('WildcardTrie', () => {
  it('matches the spec example com.myapp..userevent only at the same depth', () => {
    const t = new WildcardTrie<number>();
    t.set('com.myapp..userevent', 1);
    for (const topic of ['com.myapp.foo.userevent', 'com.myapp.bar.userevent', 'com.myapp.a12.userevent']) {
      assert.deepEqual(matches(t, topic), ['com.myapp..userevent'], topic);
    }
    for (const topic of ['com.myapp.foo.userevent.bar', 'com.myapp.foo.user', 'com.myapp2.foo.userevent']) {
      assert.deepEqual(matches(t, topic), [], topic);
    }
  });

  it('reports every matching pattern, named and wildcard alike', () => {
    const t = new WildcardTrie<number>();
    for (const p of ['a.b.c', 'a..c', '..c', '..', '...', 'a.b.', 'a.b']) t.set(p, 0);
    assert.deepEqual(matches(t, 'a.b.c'), ['..', '..c', 'a..c', 'a.b.', 'a.b.c']);
  });

  it('treats a leading or trailing empty component as a wildcard', () => {
    const t = new WildcardTrie<number>();
    t.set('.b', 1);
    t.set('a.', 2);
    assert.deepEqual(matches(t, 'x.b'), ['.b']);
    assert.deepEqual(matches(t, 'a.x'), ['a.']);
    assert.deepEqual(matches(t, 'a.b'), ['.b', 'a.']);
    assert.deepEqual(matches(t, 'a.b.c'), []);
  });

  it('prunes the whole path when the last pattern using it is deleted', () => {
    const t = new WildcardTrie<number>();
    t.set('a..c.d', 1);
    t.set('a..c', 2);
    const shared = t.nodeCount();
    t.set('a..x.y', 3);
    assert.equal(t.delete('a..x.y'), true);
    assert.equal(t.nodeCount(), shared);
    assert.equal(t.delete('a..c'), true);
    assert.equal(t.get('a..c.d'), 1);
    assert.equal(t.delete('a..c.d'), true);
    assert.equal(t.nodeCount(), 0);
  });

  it('keeps inner nodes that still hold a pattern when a longer one is deleted', () => {
    const t = new WildcardTrie<number>();
    t.set('a.', 1);
    t.set('a..c', 2);
    t.delete('a..c');
    assert.equal(t.get('a.'), 1);
    assert.deepEqual(matches(t, 'a.z'), ['a.']);
    assert.equal(t.nodeCount(), 2);
  });

  it('refuses to delete a pattern that is only a path to others', () => {
    const t = new WildcardTrie<number>();
    t.set('a..c', 1);
    assert.equal(t.delete('a.'), false);
    assert.equal(t.delete('a.b.c'), false);
    assert.equal(t.size, 1);
  });
});
