/**
 * The `archive` web service: files from a ZIP archive, as Crossbar.io's `ZipArchiveResource`
 * (`crossbar/webservice/archive.py`) serves them, read with yauzl.
 *
 * At start the archive is downloaded from `origin` when it is missing and `download` is set,
 * checked against `hashes` (SHA-256), and its central directory read. A request path (below the
 * service) gets `default_object` appended when it is empty or ends in "/", `object_prefix`
 * prepended, and is looked up by exact entry name; an unknown name serves `options.default_file`
 * once, else 404. Entries are read whole, kept in memory with `cache`.
 *
 * xbar differs: entries go out with an ETag (CRC-32 and size) and Last-Modified (the entry's
 * time), so conditional GET (304) and byte ranges (206/416) work as for `static` (Crossbar.io
 * has neither for archives); names that are not plain (empty, ".", "..", dot files, "\", NUL)
 * are not looked up, and entries whose name would escape a folder ("../x", "/x") are skipped.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fresh from 'fresh';
import mime from 'mime-types';
import type { Logger } from 'pino';
import parseRange from 'range-parser';
import yauzl from 'yauzl';
import type { ArchivePathConfig } from '../../config/types-web.js';
import type { PathHandler, RequestPath } from '../http-server.js';
import { allowMethods, notFound, reply } from './http-util.js';
import { isPlainName } from './static.js';

/** How long a download of the archive from its origin may take. */
const DOWNLOAD_TIMEOUT_MS = 300_000;

interface Item {
  readonly entry: yauzl.Entry;
  readonly etag: string;
  readonly modified: string;
  data?: Buffer;
}

/** Entry names are UTF-8 when flagged (bit 11), else CP437, read here as Latin-1 (equal for ASCII). */
function entryName(e: yauzl.Entry): string {
  const raw = e.fileName as unknown as Buffer;
  return raw.toString((e.generalPurposeBitFlag & 0x800) !== 0 ? 'utf8' : 'latin1');
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** Downloads `url` to `file` (through a temporary file beside it, so a failed download leaves nothing). */
async function download(url: string, file: string): Promise<void> {
  const r = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  if (!r.ok || r.body === null) throw new Error(`download of ${url} failed: HTTP ${r.status}`);
  const part = `${file}.download`;
  try {
    await pipeline(Readable.fromWeb(r.body as import('node:stream/web').ReadableStream), createWriteStream(part));
    await rename(part, file);
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
}

export class ArchiveService implements PathHandler {
  private zip: yauzl.ZipFile | undefined;
  private readonly items = new Map<string, Item>();

  private constructor(private readonly c: ArchivePathConfig, private readonly log: Logger) {}

  /** Downloads, verifies and opens the archive; throws what stops the node from starting. */
  static async start(c: ArchivePathConfig, log: Logger): Promise<ArchiveService> {
    const s = new ArchiveService(c, log);
    if (!existsSync(c.file)) {
      // Crossbar.io's checkconfig accepts this; its start fails ("missing origin"), and so does xbar's.
      if (c.origin === undefined) throw new Error(`archive ${JSON.stringify(c.file)} does not exist, and there is no "origin" to download it from`);
      if (!c.download) {
        log.warn({ file: c.file, origin: c.origin }, 'archive: file missing and download is off: every request is 404');
        return s;
      }
      log.info({ origin: c.origin, file: c.file }, 'archive: downloading');
      await download(c.origin, c.file);
    }
    if (c.hashes.length > 0) {
      const h = await sha256(c.file);
      if (!c.hashes.includes(h)) {
        throw new Error(`archive ${c.file} (SHA-256 ${h}) matches none of the configured hashes ${c.hashes.join(', ')}`);
      }
    } else log.warn({ file: c.file }, 'archive: unverified (no hashes configured)');
    await s.open();
    return s;
  }

  private async open(): Promise<void> {
    const zip = await yauzl.openPromise(this.c.file, { lazyEntries: true, autoClose: false, decodeStrings: false });
    this.zip = zip;
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry);
      if (name.endsWith('/')) continue;
      if (yauzl.validateFileName(name) !== null) {
        this.log.warn({ entry: name }, 'archive: skipped an entry whose name leaves its folder');
        continue;
      }
      const modified = entry.getLastModDate();
      this.items.set(name, {
        entry,
        etag: `"${entry.crc32.toString(16)}-${entry.uncompressedSize.toString(16)}"`,
        modified: (Number.isNaN(modified.getTime()) ? new Date(0) : modified).toUTCString(),
      });
    }
    this.log.info({ file: this.c.file, entries: this.items.size }, 'archive: opened');
  }

  request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath): void {
    if (!allowMethods(req, res, ['GET'])) return;
    const item = this.lookup(at.segments) ?? (this.c.defaultFile === undefined ? undefined : this.lookup(this.c.defaultFile.split('/')));
    if (item === undefined) return notFound(req, res);
    this.read(item).then(
      (data) => this.send(req, res, item, data),
      (err: unknown) => {
        this.log.warn({ err, entry: entryName(item.entry) }, 'archive: could not read an entry');
        reply(req, res, 500, 'could not read the file from the archive\n');
      },
    );
  }

  private lookup(segments: readonly string[]): Item | undefined {
    const last = segments.length === 0 ? '' : segments[segments.length - 1]!;
    const inner = segments.slice(0, -1);
    if (!inner.every(isPlainName) || (last !== '' && !isPlainName(last))) return undefined;
    let name = segments.join('/');
    if ((name === '' || name.endsWith('/')) && this.c.defaultObject !== undefined) name += this.c.defaultObject;
    if (this.c.objectPrefix !== undefined && this.c.objectPrefix !== '') name = `${this.c.objectPrefix.replace(/\/+$/, '')}/${name}`;
    return this.items.get(name);
  }

  private async read(item: Item): Promise<Buffer> {
    if (item.data !== undefined) return item.data;
    if (this.zip === undefined) throw new Error('archive is closed');
    const stream = await this.zip.openReadStreamPromise(item.entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    if (this.c.cache) item.data = data;
    return data;
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, item: Item, data: Buffer): void {
    const name = entryName(item.entry);
    const headers: Record<string, string> = {
      'content-type': typeOf(name, this.c.mimeTypes),
      etag: item.etag,
      'last-modified': item.modified,
      'accept-ranges': 'bytes',
    };
    if (fresh(req.headers, { etag: item.etag, 'last-modified': item.modified })) {
      res.writeHead(304, { etag: item.etag, 'last-modified': item.modified });
      return void res.end();
    }
    const range = req.headers.range;
    const ifRange = req.headers['if-range'];
    if (range !== undefined && (ifRange === undefined || ifRange === item.etag || ifRange === item.modified)) {
      const ranges = parseRange(data.length, range, { combine: true });
      if (ranges === -1) return reply(req, res, 416, '', { 'content-range': `bytes */${data.length}` });
      if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) {
        const r = ranges[0]!;
        return reply(req, res, 206, data.subarray(r.start, r.end + 1), { ...headers, 'content-range': `bytes ${r.start}-${r.end}/${data.length}` });
      }
    }
    reply(req, res, 200, data, headers);
  }

  close(): void {
    this.zip?.close();
    this.zip = undefined;
  }
}

/** Crossbar.io takes an entry's type from its extension (`mime_types` first); no Content-Encoding. */
function typeOf(name: string, types: ArchivePathConfig['mimeTypes']): string {
  let best: string | undefined;
  let length = 0;
  for (const [ext, type] of Object.entries(types)) {
    if (ext.length > length && name.toLowerCase().endsWith(ext.toLowerCase())) [best, length] = [type, ext.length];
  }
  const i = name.lastIndexOf('.');
  return best ?? ((i > 0 && mime.contentType(name.slice(i))) || 'application/octet-stream');
}
