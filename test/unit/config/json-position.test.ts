import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonErrorOffset, lineColumn } from '../../../src/config/json-position.js';

describe('locating a JSON syntax error', () => {
  it('finds nothing wrong in valid JSON', () => {
    for (const text of ['{}', ' [1, -2.5e3, "a\\u00e9\\n", true, false, null, {"k": []}] ', '0']) {
      assert.equal(jsonErrorOffset(text), undefined, text);
    }
  });

  it('points at the first offending character', () => {
    const cases: [string, number][] = [
      ['{"a": }', 6],
      ['[1, 2,]', 6],
      ['{"a" 1}', 5],
      ['[01]', 2],
      ['"tab\there"', 4],
      ['{"a": 1} x', 9],
      ['[1', 2],
    ];
    for (const [text, offset] of cases) assert.equal(jsonErrorOffset(text), offset, text);
  });

  it('turns an offset into a 1-based line and column', () => {
    assert.deepEqual(lineColumn('ab\ncd\nef', 4), { line: 2, column: 2 });
    assert.deepEqual(lineColumn('ab', 0), { line: 1, column: 1 });
  });
});
