import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixTrie } from '../../../src/match/prefix-trie.js';

function matches(trie: PrefixTrie<number>, topic: string): string[] {
  const out: string[] = [];
  trie.forEachMatch(topic, (e) => out.push(e.uri));
  return out;
}

describe('PrefixTrie', () => {
  it('reports every stored prefix of the topic, shortest first', () => {
    const t = new PrefixTrie<number>();
    for (const p of ['com.foo.bar', 'com', 'com.foo', 'com.fob', 'org']) t.set(p, p.length);
    assert.deepEqual(matches(t, 'com.foo.bar.baz'), ['com', 'com.foo', 'com.foo.bar']);
    assert.deepEqual(matches(t, 'com.fo'), ['com']);
    assert.deepEqual(matches(t, 'co'), []);
  });

  it('splits an edge when a new prefix ends inside it, keeping the longer one', () => {
    const t = new PrefixTrie<number>();
    t.set('com.example.device', 1);
    t.set('com.ex', 2);
    t.set('com.exit', 3);
    assert.equal(t.get('com.example.device'), 1);
    assert.equal(t.get('com.ex'), 2);
    assert.equal(t.get('com.exit'), 3);
    assert.equal(t.get('com.e'), undefined);
    assert.deepEqual(matches(t, 'com.example.device.7'), ['com.ex', 'com.example.device']);
  });

  it('replaces the value of a prefix stored twice without growing', () => {
    const t = new PrefixTrie<number>();
    assert.equal(t.set('a.b', 1), true);
    assert.equal(t.set('a.b', 2), false);
    assert.equal(t.size, 1);
    assert.equal(t.get('a.b'), 2);
  });

  it('returns the longest matching prefix', () => {
    const t = new PrefixTrie<string>();
    for (const p of ['', 'a1.b2', 'a1.b2.c3', 'a1.b2.c3.d4.e5']) t.set(p, p);
    assert.equal(t.longest('a1.b2.c3.d4')?.uri, 'a1.b2.c3');
    assert.equal(t.longest('zzz')?.uri, '');
  });

  it('re-compresses the path on delete, so the node count returns to what it was', () => {
    const t = new PrefixTrie<number>();
    t.set('com.example', 1);
    const before = t.nodeCount();
    t.set('com.ex', 2); // splits the edge
    t.set('com.example.device', 3);
    assert.ok(t.nodeCount() > before);
    assert.equal(t.delete('com.ex'), true);
    assert.equal(t.delete('com.example.device'), true);
    assert.equal(t.nodeCount(), before);
    assert.equal(t.delete('com.example'), true);
    assert.equal(t.nodeCount(), 0);
    assert.equal(t.size, 0);
  });

  it('refuses to delete what was never stored, including a path through an edge', () => {
    const t = new PrefixTrie<number>();
    t.set('com.example', 1);
    assert.equal(t.delete('com.ex'), false);
    assert.equal(t.delete('com.example.x'), false);
    assert.equal(t.delete(''), false);
    assert.equal(t.size, 1);
  });

  it('lists every entry once', () => {
    const t = new PrefixTrie<number>();
    const ps = ['', 'a', 'ab', 'abc', 'b', 'ba'];
    ps.forEach((p, i) => t.set(p, i));
    assert.deepEqual([...t.entries()].map((e) => e.uri).sort(), [...ps].sort());
  });
});
