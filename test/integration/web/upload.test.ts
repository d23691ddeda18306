/**
 * The `upload` web service over real HTTP with curl as the client (multipart/form-data, the
 * fields resumable.js sends, named as crossbar-examples' fileupload config names them) and an
 * Autobahn|JS session receiving the progress events over WAMP: single and multi-chunk files,
 * chunks in any order and in parallel, the resume check (GET), limits, conflicts, hostile file
 * names, and uploads that survive a restart.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { type ConfigNode, NodeDir, curl, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';

const FORM_FIELDS = {
  file_name: 'resumableFilename', mime_type: 'resumableType', total_size: 'resumableTotalSize',
  chunk_number: 'resumableChunkNumber', chunk_size: 'resumableChunkSize', total_chunks: 'resumableTotalChunks',
  content: 'file', on_progress: 'on_progress', session: 'session', chunk_extra: 'chunk_extra', finish_extra: 'finish_extra',
};

function config(): Record<string, unknown> {
  return webConfig({
    ws: { type: 'websocket' },
    upload: {
      type: 'upload', realm: 'realm1', role: 'anonymous', directory: '../uploaded', temp_directory: '../uploaded/tmp',
      form_fields: FORM_FIELDS,
      options: { max_file_size: 100_000, file_permissions: '0640', file_types: ['.csv', '.txt', '.bin'] },
    },
  });
}

interface Progress {
  id: string;
  chunk: number;
  name: string;
  total: number;
  remaining: number;
  status: string;
  progress: number;
  chunk_extra: unknown;
  finish_extra?: unknown;
}

describe('upload web service', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let connection: autobahn.Connection;
  let session: autobahn.Session;
  const events: Progress[] = [];
  const waiters: (() => void)[] = [];
  const finished = (name: string) =>
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (events.some((e) => e.name === name && e.status === 'finished')) resolve();
        else waiters.push(check);
      };
      check();
    });

  async function startAll(): Promise<void> {
    t = await startConfigNode(dir, config());
    connection = new autobahn.Connection({ url: `ws://127.0.0.1:${t.port}/ws`, realm: 'realm1', max_retries: 0 });
    session = await new Promise<autobahn.Session>((resolve) => {
      connection.onopen = (s) => resolve(s);
      connection.open();
    });
    await session.subscribe('com.example.upload.on_progress', (args) => {
      events.push(args?.[0] as Progress);
      for (const w of waiters.splice(0)) w();
    });
  }

  before(async () => {
    dir.write('uploaded/README.md', 'finished uploads land here');
    await startAll();
  });
  after(async () => {
    connection?.close();
    await t?.stop();
    dir.remove();
  });

  /** POSTs one chunk with curl; returns "status body". */
  async function post(name: string, content: Buffer, n: number, total: number, size: number, totalSize: number, extra: string[] = []): Promise<string> {
    const file = dir.write(`chunks/${name.replace(/[^a-z0-9.]/gi, '_')}.${n}`, content);
    const fields = [
      `resumableFilename=${name}`, 'resumableType=text/plain', `resumableTotalSize=${totalSize}`, `resumableChunkNumber=${n}`,
      `resumableChunkSize=${size}`, `resumableTotalChunks=${total}`, 'on_progress=com.example.upload.on_progress',
      `session=${session.id}`, 'chunk_extra={"test":"lala","test2":23}', 'finish_extra={"test":"fifi"}',
    ];
    // A field in `extra` ("-F", "name=value") replaces the default one.
    const replaced = new Set(extra.filter((_, i) => extra[i - 1] === '-F').map((f) => f.split('=')[0]));
    const form = fields.filter((f) => !replaced.has(f.split('=')[0])).flatMap((f) => ['-F', f]);
    const out = await curl(['-w', ' %{http_code}', ...form, ...extra, '-F', `file=@${file};filename=blob`, `${t.http}/upload`]);
    const i = out.lastIndexOf(' ');
    return `${out.slice(i + 1)} ${out.slice(0, i)}`.trim();
  }

  it('stores a one-chunk file in the upload directory with file_permissions and publishes started and finished', async () => {
    const done = finished('one.txt');
    assert.equal(await post('one.txt', Buffer.from('hello upload'), 1, 1, 1024, 12), '200');
    await done;
    assert.equal(readFileSync(dir.path('uploaded/one.txt'), 'utf8'), 'hello upload');
    assert.equal(statSync(dir.path('uploaded/one.txt')).mode & 0o777, 0o640);
    const mine = events.filter((e) => e.name === 'one.txt');
    assert.deepEqual(mine.map((e) => e.status), ['started', 'finished']);
    assert.deepEqual(mine[1], {
      id: 'one.txt', chunk: 1, name: 'one.txt', total: 12, remaining: 0, status: 'finished', progress: 1,
      finish_extra: { test: 'fifi' }, chunk_extra: { test: 'lala', test2: 23 },
    });
  });

  it('assembles a multi-chunk file sent out of order and in parallel, reporting progress per chunk', async () => {
    const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    const parts = [0, 1, 2].map((i) => data.subarray(i * 1000, (i + 1) * 1000));
    const done = finished('data.bin');
    assert.equal(await post('data.bin', parts[1]!, 2, 3, 1000, data.length), '200');
    // resumable.js's testChunks: chunk 2 is here, chunk 1 is not.
    assert.equal(await curl(['-w', ' %{http_code}', `${t.http}/upload?resumableFilename=data.bin&resumableChunkNumber=2`]), 'chunk of file already uploaded 200');
    assert.equal(await curl(['-w', ' %{http_code}', `${t.http}/upload?resumableFilename=data.bin&resumableChunkNumber=1`]), 'chunk of file not yet uploaded 404');
    assert.equal(await curl(['-w', ' %{http_code}', `${t.http}/upload?resumableChunkNumber=1`]), "file upload: missing query parameter 'resumableFilename' (file_name)\n 400");
    const rest = await Promise.all([post('data.bin', parts[2]!, 3, 3, 1000, data.length), post('data.bin', parts[0]!, 1, 3, 1000, data.length)]);
    assert.deepEqual(rest, ['200', '200']);
    await done;
    assert.deepEqual(readFileSync(dir.path('uploaded/data.bin')), data);
    const mine = events.filter((e) => e.name === 'data.bin');
    assert.deepEqual(mine.map((e) => e.status), ['started', 'progress', 'progress', 'progress', 'finished']);
    assert.deepEqual(mine.map((e) => e.remaining), [2500, 1500, mine[2]!.remaining, 0, 0]);
    assert.equal(mine[3]!.progress, 1);
    assert.equal(existsSync(dir.path('uploaded/tmp/data.bin')), false, 'the chunks are gone');
  });

  it('refuses too large (413), a type not in file_types (415), bad fields (400) and hostile names (400)', async () => {
    assert.match(await post('big.txt', Buffer.from('x'), 1, 1, 1, 200_000), /^413 Size 200000 of file to be uploaded exceeds maximum 100000/);
    assert.match(await post('run.exe', Buffer.from('x'), 1, 1, 1, 1), /^415 Type '\.exe'/);
    assert.match(await post('lie.txt', Buffer.alloc(50), 1, 1, 50, 10), /^400 .*larger than the file/);
    assert.match(await post('n.txt', Buffer.from('x'), 0, 1, 1, 1), /^400 .*chunk_number.*>= 1/);
    assert.match(await post('j.txt', Buffer.from('x'), 1, 1, 1, 1, ['-F', 'chunk_extra=not json']), /^400/);
    for (const name of ['../escape.txt', '..', '.hidden.txt', 'a/b.txt', 'a\\b.txt']) {
      assert.match(await post(name, Buffer.from('x'), 1, 1, 1, 1), /^400 file upload: the file name must be a plain name/, name);
    }
    assert.equal(existsSync(dir.path('escape.txt')), false);
    assert.equal(existsSync(dir.path('uploaded/escape.txt')), false);
    assert.deepEqual(readdirSync(dir.path('uploaded')).sort(), ['README.md', 'data.bin', 'one.txt', 'tmp']);
    assert.equal((await fetch(`${t.http}/upload`, { method: 'PUT', body: 'x' })).status, 405);
    assert.equal((await fetch(`${t.http}/upload`, { method: 'POST', body: 'not a form' })).status, 400);
  });

  it('answers 409 while another client (by Host) uploads the same file', async () => {
    assert.equal(await post('shared.csv', Buffer.from('a,'), 1, 2, 2, 4), '200');
    assert.match(await post('shared.csv', Buffer.from('b\n'), 2, 2, 2, 4, ['-H', 'Host: other.example']), /^409 File being uploaded is already uploaded in a different session/);
  });

  it('keeps unfinished uploads over a restart, so a client can resume them', async () => {
    connection.close();
    await t.stop();
    await startAll();
    assert.equal(await curl(['-w', ' %{http_code}', `${t.http}/upload?resumableFilename=shared.csv&resumableChunkNumber=1`]), 'chunk of file already uploaded 200');
    const done = finished('shared.csv');
    assert.equal(await post('shared.csv', Buffer.from('b\n'), 2, 2, 2, 4, ['-H', 'Host: other.example']), '200');
    await done;
    assert.equal(readFileSync(dir.path('uploaded/shared.csv'), 'utf8'), 'a,b\n');
  });
});

describe('upload web service: what unfinished uploads may hold', () => {
  const dir = new NodeDir();
  let t: ConfigNode;

  before(async () => {
    dir.write('uploaded/README.md', 'finished uploads land here');
    t = await startConfigNode(dir, webConfig({
      upload: {
        type: 'upload', realm: 'realm1', role: 'anonymous', directory: '../uploaded', temp_directory: '../uploaded/tmp',
        form_fields: FORM_FIELDS, options: { max_file_size: 1000, max_unfinished_uploads: 2, unfinished_timeout: 1 },
      },
    }));
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  /** Chunk `n` of 2 of a 4-byte file; returns "status body" (and the Retry-After header when there is one). */
  async function chunk(name: string, n: number): Promise<string> {
    const file = dir.write(`chunks/${name}.${n}`, Buffer.from('ab'));
    const fields = [`resumableFilename=${name}`, 'resumableTotalSize=4', `resumableChunkNumber=${n}`, 'resumableChunkSize=2', 'resumableTotalChunks=2'];
    return (await curl(['-w', ' %{http_code} %header{retry-after}', ...fields.flatMap((f) => ['-F', f]), '-F', `file=@${file};filename=blob`, `${t.http}/upload`])).trim();
  }
  const status = (out: string) => out.match(/(?:^|\s)(\d{3})(?: (\d+))?$/)!;

  it('refuses a new upload past max_unfinished_uploads with 503 and Retry-After, while the unfinished ones go on', async () => {
    assert.equal(status(await chunk('a.txt', 1))[1], '200');
    assert.equal(status(await chunk('b.txt', 1))[1], '200');
    const refused = await chunk('c.txt', 1);
    assert.equal(status(refused)[1], '503');
    assert.match(refused, /2 uploads are unfinished, the most kept at once \(max_unfinished_uploads\)/);
    assert.ok(Number(status(refused)[2]) >= 1, `Retry-After in seconds: ${refused}`);
    assert.equal(existsSync(dir.path('uploaded/tmp/c.txt')), false, 'nothing of the refused upload is kept');
    // An unfinished upload finishes; then there is room.
    assert.equal(status(await chunk('a.txt', 2))[1], '200');
    assert.equal(readFileSync(dir.path('uploaded/a.txt'), 'utf8'), 'abab');
    assert.equal(status(await chunk('c.txt', 1))[1], '200');
  });

  it('drops unfinished uploads idle past unfinished_timeout when a new one needs room', async () => {
    // b.txt and c.txt are unfinished; after a second without chunks, a new upload drops them.
    let out = '';
    const t0 = Date.now();
    while (status((out = await chunk('d.txt', 1)))[1] === '503') {
      assert.ok(Date.now() - t0 < 10_000, `still refused after 10 s: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status(out)[1], '200');
    assert.equal(existsSync(dir.path('uploaded/tmp/b.txt')), false, 'b.txt\'s chunks are gone');
    assert.equal(await curl(['-w', ' %{http_code}', `${t.http}/upload?resumableFilename=b.txt&resumableChunkNumber=1`]), 'chunk of file not yet uploaded 404');
    assert.equal(await curl(['-w', ' %{http_code}', `${t.http}/upload?resumableFilename=d.txt&resumableChunkNumber=1`]), 'chunk of file already uploaded 200');
  });
});
