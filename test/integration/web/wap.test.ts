/**
 * The `wap` web service over real HTTP, configured as crossbar-examples' `webservices/wap`:
 * Werkzeug routes with variables, procedures registered by an Autobahn|JS backend, templates
 * rendered — and the rendered pages compared with what the real Jinja2 (Debian's python3-jinja2,
 * the engine Crossbar.io uses) renders from the same templates and data.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { type ConfigNode, NodeDir, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';

const TEMPLATES: Record<string, string> = {
  'greeting.html': '<html><body><h1>Greeting</h1><p>Hi {{ name }}! {{ message }}</p></body></html>\n',
  'report.html':
    '{% extends "base.html" %}{% block content %}<b>{{ product_id }}</b> {{ report|upper }} {{ year }}/{{ month }}' +
    '{% for row in rows %}<tr class="{{ "odd" if loop.index is odd else "even" }}"><td>{{ loop.index }}</td><td>{{ row.label|default("none") }}</td></tr>{% endfor %}' +
    '{% for k, v in totals.items() %}[{{ k }}={{ v }}]{% endfor %}{% if rows|length > 1 %} many{% else %} few{% endif %}' +
    '{% set first = rows[0] %} {{ first.label|title }} {{ rows[1:]|length }} {{ html }} {{ html|safe }}{% endblock %}\n',
  'base.html': '<html><title>{% block title %}Report{% endblock %}</title><body>{% block content %}{% endblock %}</body></html>',
  'static.html': '<p>no data: [{{ nothing }}]</p>\n',
};

const REPORT_ROWS = [{ label: 'alpha' }, { label: 'beta & "gamma"' }, { other: 1 }];

/** Renders `template` from `dir` with Jinja2 (autoescape on, as Crossbar.io's environment). */
function jinja2(dir: string, template: string, context: unknown): Promise<string> {
  const script = [
    'import json, sys',
    'from jinja2 import FileSystemLoader',
    'from jinja2.sandbox import SandboxedEnvironment',
    'env = SandboxedEnvironment(loader=FileSystemLoader(sys.argv[1]), autoescape=True)',
    'sys.stdout.write(env.get_template(sys.argv[2]).render(json.loads(sys.argv[3])))',
  ].join('\n');
  return new Promise((resolve, reject) =>
    execFile('python3', ['-c', script, dir, template, JSON.stringify(context)], { encoding: 'utf8' }, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/** Jinja2 writes `"` as &#34;, nunjucks as &quot;: the same character. */
const sameHtml = (s: string) => s.replace(/&#34;/g, '&quot;');

describe('wap web service', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let backend: autobahn.Connection;
  const calls: { procedure: string; kwargs: Record<string, unknown> }[] = [];
  before(async () => {
    for (const [name, text] of Object.entries(TEMPLATES)) dir.write(`templates/${name}`, text);
    t = await startConfigNode(
      dir,
      webConfig({
        ws: { type: 'websocket' },
        reports: {
          type: 'wap', templates: '../templates', sandbox: true,
          routes: [
            { path: '/greeting/<name>', method: 'GET', call: 'com.example.greeting', render: 'greeting.html' },
            { path: '/product/<int:product_id>/<report>/<int:year>/<int:month>', method: 'GET', call: 'com.example.get_product_report', render: 'report.html' },
            { path: '/formsincoming', method: 'POST', call: 'com.example.incomingforms', render: 'greeting.html' },
            { path: '/fails', method: 'GET', call: 'com.example.fails', render: 'greeting.html' },
            { path: '/nobody', method: 'GET', call: 'com.example.unregistered', render: 'greeting.html' },
            { path: '/plain', method: 'GET', render: 'static.html' },
          ],
          wamp: { realm: 'realm1', authrole: 'anonymous' },
        },
      }),
    );
    backend = new autobahn.Connection({ url: `ws://127.0.0.1:${t.port}/ws`, realm: 'realm1', max_retries: 0 });
    const s = await new Promise<autobahn.Session>((resolve) => {
      backend.onopen = (x) => resolve(x);
      backend.open();
    });
    const record = (procedure: string) => (_args: unknown, kwargs: Record<string, unknown>) => void calls.push({ procedure, kwargs });
    await s.register('com.example.greeting', (args, kwargs) => {
      record('greeting')(args, kwargs);
      return { name: kwargs.name, message: `Hello, "${String(kwargs.name)}" <b>!</b>` };
    });
    await s.register('com.example.get_product_report', (args, kwargs) => {
      record('report')(args, kwargs);
      return { ...kwargs, rows: REPORT_ROWS, totals: { sum: 3 }, html: '<i>x</i>' };
    });
    await s.register('com.example.incomingforms', (args, kwargs) => {
      record('forms')(args, kwargs);
      return { name: 'Dandelion', message: `got ${String(kwargs.data_type)}` };
    });
    await s.register('com.example.fails', () => {
      throw new autobahn.Error('com.example.error.no_report', ['nothing here']);
    });
  });
  after(async () => {
    backend?.close();
    await t?.stop();
    dir.remove();
  });

  it('calls the route\'s procedure with the rule\'s variables as keyword arguments and renders the result as Jinja2 does', async () => {
    const r = await fetch(`${t.http}/reports/greeting/Homer%20Simpson?lang=en`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await r.text();
    assert.deepEqual(calls.at(-1), { procedure: 'greeting', kwargs: { name: 'Homer Simpson', lang: 'en' } });
    const context = { name: 'Homer Simpson', message: 'Hello, "Homer Simpson" <b>!</b>' };
    assert.equal(sameHtml(html), sameHtml(await jinja2(dir.path('templates'), 'greeting.html', context)));
    assert.match(html, /&lt;b&gt;!&lt;\/b&gt;/, 'autoescaped');
  });

  it('converts <int:…> variables, and renders inheritance, loops, filters and items() like Jinja2', async () => {
    const html = await (await fetch(`${t.http}/reports/product/123/total/2016/12`)).text();
    assert.deepEqual(calls.at(-1)?.kwargs, { product_id: 123, report: 'total', year: 2016, month: 12 });
    const context = { product_id: 123, report: 'total', year: 2016, month: 12, rows: REPORT_ROWS, totals: { sum: 3 }, html: '<i>x</i>' };
    assert.equal(sameHtml(html), sameHtml(await jinja2(dir.path('templates'), 'report.html', context)));
    assert.equal((await fetch(`${t.http}/reports/product/abc/total/2016/12`)).status, 404, 'int converter refuses non-digits');
  });

  it('sends the result as JSON for Accept: application/json', async () => {
    const r = await fetch(`${t.http}/reports/greeting/Marge`, { headers: { accept: 'application/json' } });
    assert.deepEqual(await r.json(), { name: 'Marge', message: 'Hello, "Marge" <b>!</b>' });
  });

  it('passes a POST body as data (bytes) with its data_type', async () => {
    const r = await fetch(`${t.http}/reports/formsincoming`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'say=Hi&to=Mom' });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /got application\/x-www-form-urlencoded/);
    // Bytes: Autobahn|JS over JSON shows them in WAMP's JSON form, "\0" + base64.
    const { data } = calls.at(-1)!.kwargs;
    assert.equal(typeof data, 'string');
    assert.equal(Buffer.from((data as string).replace(/^\0/, ''), 'base64').toString(), 'say=Hi&to=Mom');
  });

  it('renders a route without a call; answers 500 for a failed call, 404 for no route, 405 for another method', async () => {
    assert.equal(await (await fetch(`${t.http}/reports/plain`)).text(), '<p>no data: []</p>', 'Jinja2 drops the trailing newline');
    const failed = await fetch(`${t.http}/reports/fails`);
    assert.equal(failed.status, 500);
    assert.match(await failed.text(), /com\.example\.error\.no_report/);
    const nobody = await fetch(`${t.http}/reports/nobody`, { headers: { accept: 'application/json' } });
    assert.equal(nobody.status, 500);
    assert.deepEqual(await nobody.json(), { error: 'wamp.error.no_such_procedure' });
    assert.equal((await fetch(`${t.http}/reports/missing`)).status, 404);
    assert.equal((await fetch(`${t.http}/reports/greeting/x`, { method: 'POST' })).status, 405);
  });

  it('refuses a config whose route names a template that does not exist', async () => {
    const other = new NodeDir();
    try {
      other.write('templates/a.html', 'a');
      await assert.rejects(
        startConfigNode(other, webConfig({ w: { type: 'wap', templates: '../templates', routes: [{ path: '/', method: 'GET', render: 'b.html' }], wamp: { realm: 'realm1', authrole: 'nobody' } } })),
        (e: Error) => /paths\.w\.wamp\.authrole: no role "nobody" in realm "realm1"/.test(e.message) && /routes\[0\]\.render: no template "b\.html"/.test(e.message),
      );
    } finally {
      other.remove();
    }
  });
});
