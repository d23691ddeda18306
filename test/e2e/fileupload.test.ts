/**
 * crossbar-examples' `fileupload` in headless Chromium: a node whose config has the example's
 * `upload` path (its form fields and options), a page that uploads with the real resumable.js
 * (node_modules/resumablejs, copied into the web folder as the example's bower install puts it)
 * in 1 KiB chunks, four at a time, testing each chunk first, and Autobahn|JS's browser build
 * receiving the progress events over WAMP — as the example's index.html does.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { type ConfigNode, NodeDir, startConfigNode, webConfig } from '../helpers/crossbar-node.js';

const require = createRequire(import.meta.url);

const PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="resumable.js"></script><script src="autobahn.min.js"></script></head>
<body><input type="file" id="browse">
<script>
  window.events = [];
  window.outcome = null;
  var connection = new autobahn.Connection({ url: 'ws://' + document.location.host + '/ws', realm: 'realm1' });
  connection.onopen = function (session) {
    session.subscribe('com.example.upload.on_progress', function (args) { window.events.push(args[0]); }).then(function () {
      var r = new Resumable({
        target: 'upload', chunkSize: 1024, forceChunkSize: true, simultaneousUploads: 4, testChunks: true,
        query: { on_progress: 'com.example.upload.on_progress', session: session.id,
                 chunk_extra: JSON.stringify({ test: 'lala', test2: 23 }), finish_extra: JSON.stringify({ test: 'fifi', test2: 52 }) }
      });
      r.assignBrowse(document.getElementById('browse'));
      r.on('fileAdded', function () { r.upload(); });
      r.on('fileSuccess', function (file) { window.outcome = 'success ' + file.fileName; });
      r.on('fileError', function (file, message) { window.outcome = 'error ' + message; });
      document.body.setAttribute('data-ready', 'yes');
    });
  };
  connection.open();
</script></body></html>
`;

describe('fileupload example: resumable.js and Autobahn|JS in headless Chromium', { timeout: 60_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let browser: Browser;
  before(async () => {
    dir.write('index.html', PAGE);
    copyFileSync(require.resolve('resumablejs/resumable.js'), dir.path('resumable.js'));
    copyFileSync(require.resolve('autobahn-browser/autobahn.min.js'), dir.path('autobahn.min.js'));
    dir.write('uploaded/README.md', 'uploads');
    t = await startConfigNode(
      dir,
      webConfig({
        '/': { type: 'static', directory: '..' },
        ws: { type: 'websocket' },
        upload: {
          type: 'upload', realm: 'realm1', role: 'anonymous', directory: '../uploaded', temp_directory: '../uploaded/tmp',
          form_fields: {
            file_name: 'resumableFilename', mime_type: 'resumableType', total_size: 'resumableTotalSize',
            chunk_number: 'resumableChunkNumber', chunk_size: 'resumableChunkSize', total_chunks: 'resumableTotalChunks',
            content: 'file', on_progress: 'on_progress', session: 'session', chunk_extra: 'chunk_extra', finish_extra: 'finish_extra',
          },
          options: { max_file_size: 200000000, file_permissions: '0644', file_types: ['.csv', '.txt', '.pdf', '.img', '.png', '.jpg', '.bz2', '.xz', '.gz'] },
        },
      }),
    );
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    dir.remove();
  });

  it('uploads a file in chunks; the file lands in the upload directory and progress arrives over WAMP', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i % 10}`).join(''));
    try {
      await page.goto(`${t.http}/`);
      await page.waitForSelector('body[data-ready="yes"]', { timeout: 15_000 });
      await page.setInputFiles('#browse', { name: 'measurements.csv', mimeType: 'text/csv', buffer: content });
      await page.waitForFunction(() => (window as unknown as { outcome: string | null }).outcome !== null, undefined, { timeout: 20_000 });
      assert.equal(await page.evaluate(() => (window as unknown as { outcome: string }).outcome), 'success measurements.csv');
      await page.waitForFunction(
        () => (window as unknown as { events: { status: string }[] }).events.some((e) => e.status === 'finished'),
        undefined,
        { timeout: 10_000 },
      );
      const events = await page.evaluate(() => (window as unknown as { events: { status: string; chunk: number; progress: number; finish_extra?: unknown }[] }).events);
      assert.equal(events[0]?.status, 'started');
      assert.equal(events.filter((e) => e.status === 'progress').length, 5, 'one progress event per chunk');
      const done = events.find((e) => e.status === 'finished')!;
      assert.deepEqual(done.finish_extra, { test: 'fifi', test2: 52 });
      assert.deepEqual(readFileSync(dir.path('uploaded/measurements.csv')), content);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
