/**
 * `UrlRule` against the real Werkzeug (Debian's python3-werkzeug, the router Crossbar.io's wap
 * service uses): for each rule and path, the same match or no match, and the same converted
 * values.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { UrlRule } from '../../../src/web/services/url-rule.js';

const CASES: [string, string[]][] = [
  ['/greeting/<name>', ['/greeting/Homer', '/greeting/', '/greeting/a/b', '/greeting/Homer Simpson', '/greeting']],
  ['/product/<int:product_id>/<report>/<int:year>/<int:month>', ['/product/123/total/2016/12', '/product/x/total/2016/12', '/product/-1/t/1/1', '/product/007/t/1/1']],
  ['/f/<float:v>', ['/f/1.5', '/f/1', '/f/.5', '/f/10.25']],
  ['/files/<path:p>', ['/files/a/b/c.txt', '/files/', '/files/a']],
  ['/k/<any(about, help):page>', ['/k/about', '/k/help', '/k/other']],
  ['/s/<string(length=2):code>', ['/s/de', '/s/d', '/s/deu']],
  ['/n/<int(min=1, max=12):month>', ['/n/0', '/n/1', '/n/12', '/n/13']],
  ['/u/<uuid:id>', ['/u/0f8fad5b-d9cb-469f-a165-70867728950e', '/u/nope']],
  ['/', ['/', '/x']],
];

function werkzeug(): unknown[][] {
  const script = [
    'import json, sys',
    'from werkzeug.routing import Map, Rule',
    'out = []',
    'for rule, paths in json.loads(sys.argv[1]):',
    '    m = Map([Rule(rule, endpoint="e")]).bind("localhost", "/")',
    '    row = []',
    '    for p in paths:',
    '        try:',
    '            row.append({k: (str(v) if not isinstance(v, (int, float, str)) else v) for k, v in m.match(p)[1].items()})',
    '        except Exception:',
    '            row.append(None)',
    '    out.append(row)',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, JSON.stringify(CASES)], { encoding: 'utf8' })) as unknown[][];
}

describe('wap URL rules', () => {
  it('match and convert as Werkzeug does', () => {
    const expected = werkzeug();
    CASES.forEach(([rule, paths], i) => {
      const r = new UrlRule(rule);
      paths.forEach((p, j) => assert.deepEqual(r.match(p) ?? null, expected[i]![j], `${rule} ${p}`));
    });
  });

  it('refuses an unknown converter when the route is built', () => {
    assert.throws(() => new UrlRule('/x/<nope:y>'), /unknown converter "nope"/);
  });
});
