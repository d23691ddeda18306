/**
 * The `upload` web service: Crossbar.io's chunked file upload (the resumable.js protocol) with
 * progress events over WAMP, as its `FileUploadResource` (`crossbar/twisted/fileupload.py`) does.
 *
 * POST, multipart/form-data (parsed with busboy), one chunk per request, fields named by
 * `form_fields`: file name, total size, chunk number (from 1), chunk size, total chunks, the
 * content, and optionally the progress topic, a session id to restrict events to, and JSON
 * "extra" objects. Events go to the progress topic from a session joined with the service's realm
 * and role: `{id, chunk, name, total, remaining, status: started|progress|finished, progress,
 * chunk_extra[, finish_extra]}`. The last chunk assembles the file into `directory`.
 *
 * GET with the file name and chunk number in the query answers 200 when that chunk is already
 * here and 404 when not (resumable.js's `testChunks`), so an interrupted upload resumes.
 *
 * Answers as Crossbar.io: 409 when another client (by Host) uploads the same file, 413 over
 * `max_file_size`, 415 for a type not in `file_types`. xbar differs: the file name must be a plain
 * name (Crossbar.io joins it to the directory as given, so "../x" writes outside), chunks are
 * checked against the declared sizes, and bad fields are 400 with the reason (Crossbar.io: 500).
 * Chunks of one file are handled one at a time, so concurrent chunks assemble the file once.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type http from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Logger } from 'pino';
import type { UploadPathConfig } from '../../config/types-web.js';
import type { Router } from '../../router/router.js';
import type { PathHandler, RequestPath } from '../http-server.js';
import { allowMethods, queryArgs, reply } from './http-util.js';
import { ServiceSession } from './service-session.js';
import { isPlainName } from './static.js';
import { UploadStore } from './upload-store.js';

/** Form fields other than the content are small: names, numbers, a topic, two JSON objects. */
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_FIELDS = 64;

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Readonly<Record<string, string | number>> = {}) {
    super(message);
  }
}

interface Chunk {
  readonly fields: Map<string, string>;
  /** The content as received, in a temporary file; undefined when the form had none. */
  readonly file: string | undefined;
  readonly bytes: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class UploadService implements PathHandler {
  private readonly store: UploadStore;
  private readonly session: ServiceSession;
  /** Per file name, the tail of its chain of chunk handlers. */
  private readonly busy = new Map<string, Promise<void>>();

  private constructor(private readonly c: UploadPathConfig, router: Router, private readonly log: Logger) {
    this.store = new UploadStore(c.directory, c.tempDirectory, c.filePermissions);
    this.session = new ServiceSession(router, c.realm, c.role, 'xbar-upload');
  }

  static async start(c: UploadPathConfig, router: Router, log: Logger): Promise<UploadService> {
    const s = new UploadService(c, router, log);
    await s.store.start();
    if (s.store.uploads.size > 0) log.info({ uploads: [...s.store.uploads.keys()] }, 'upload: unfinished uploads can resume');
    return s;
  }

  request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath): void {
    if (!allowMethods(req, res, ['GET', 'POST'])) return;
    if (req.method === 'POST') {
      this.post(req).then(
        () => reply(req, res, 200, ''),
        (err: unknown) => this.fail(req, res, err),
      );
      return;
    }
    const q = queryArgs(at.query);
    const f = this.c.formFields;
    const [name, chunk] = [q.get(f.fileName), q.get(f.chunkNumber)];
    if (name === undefined || chunk === undefined) {
      const missing = name === undefined ? `${f.fileName}' (file_name` : `${f.chunkNumber}' (chunk_number`;
      return reply(req, res, 400, `file upload: missing query parameter '${missing})\n`);
    }
    const have = this.store.uploads.get(name)?.chunks.has(Number(chunk)) ?? false;
    reply(req, res, have ? 200 : 404, have ? 'chunk of file already uploaded' : 'chunk of file not yet uploaded');
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
    if (err instanceof HttpError) {
      this.log.debug({ status: err.status, reason: err.message }, 'upload: refused a chunk');
      reply(req, res, err.status, `${err.message}\n`, err.headers);
    } else {
      this.log.warn({ err }, 'upload: a chunk failed');
      reply(req, res, 500, 'file upload failed\n');
    }
  }

  /** Reads the form: fields into memory, the content into a temporary file. */
  private receive(req: http.IncomingMessage): Promise<Chunk> {
    return new Promise((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({
          headers: req.headers,
          limits: { fieldSize: MAX_FIELD_BYTES, fields: MAX_FIELDS, files: 1, fileSize: this.c.maxFileSize, parts: MAX_FIELDS + 1 },
        });
      } catch (e) {
        return reject(new HttpError(400, `file upload: expected multipart/form-data (${(e as Error).message})`));
      }
      const fields = new Map<string, string>();
      let file: string | undefined;
      let bytes = 0;
      let tooBig = false;
      let writing: Promise<void> = Promise.resolve();
      bb.on('field', (name, value, info) => {
        if (info.valueTruncated) tooBig = true;
        if (!fields.has(name)) fields.set(name, value);
      });
      bb.on('file', (name, stream) => {
        if (name !== this.c.formFields.content || file !== undefined) return void stream.resume();
        file = this.store.partialName(randomUUID());
        stream.on('data', (b: Buffer) => (bytes += b.length));
        stream.on('limit', () => (tooBig = true));
        writing = pipeline(stream, createWriteStream(file));
      });
      bb.on('error', (e: Error) => reject(new HttpError(400, `file upload: bad form data (${e.message})`)));
      bb.on('close', () => {
        writing.then(
          () => {
            if (!tooBig) return resolve({ fields, file, bytes });
            if (file !== undefined) void rm(file, { force: true });
            reject(new HttpError(413, `file upload: a chunk or field is over the limit (max_file_size ${this.c.maxFileSize} bytes)`));
          },
          (e: unknown) => reject(e),
        );
      });
      req.pipe(bb);
    });
  }

  private async post(req: http.IncomingMessage): Promise<void> {
    const chunk = await this.receive(req);
    try {
      const name = chunk.fields.get(this.c.formFields.fileName) ?? '';
      // One chunk of a file at a time, in arrival order.
      const previous = this.busy.get(name) ?? Promise.resolve();
      const mine = previous.then(() => this.accept(req, chunk));
      const tail = mine.catch(() => undefined);
      this.busy.set(name, tail);
      void tail.then(() => {
        if (this.busy.get(name) === tail) this.busy.delete(name);
      });
      await mine;
    } finally {
      if (chunk.file !== undefined) await rm(chunk.file, { force: true });
    }
  }

  private async accept(req: http.IncomingMessage, chunk: Chunk): Promise<void> {
    const f = this.c.formFields;
    const text = (key: string | undefined, what: string): string => {
      const v = key === undefined ? undefined : chunk.fields.get(key);
      if (v === undefined) throw new HttpError(400, `file upload: missing form field '${key}' (${what})`);
      return v;
    };
    const count = (key: string, what: string, min: number): number => {
      const v = text(key, what);
      if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new HttpError(400, `file upload: '${key}' (${what}) must be an integer >= ${min}, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    const json = (key: string | undefined, what: string): unknown => {
      const v = key === undefined ? undefined : chunk.fields.get(key);
      if (v === undefined) return {};
      try {
        return JSON.parse(v) as unknown;
      } catch {
        throw new HttpError(400, `file upload: '${key}' (${what}) is not JSON`);
      }
    };
    const name = text(f.fileName, 'file_name');
    const totalSize = count(f.totalSize, 'total_size', 0);
    const totalChunks = count(f.totalChunks, 'total_chunks', 1);
    const chunkSize = count(f.chunkSize, 'chunk_size', 0);
    const chunkNumber = count(f.chunkNumber, 'chunk_number', 1);
    const chunkExtra = json(f.chunkExtra, 'chunk_extra');
    const finishExtra = json(f.finishExtra, 'finish_extra');
    if (!isPlainName(name) || /[\x00-\x1f]/.test(name)) throw new HttpError(400, `file upload: the file name must be a plain name, got ${JSON.stringify(name)}`);
    if (chunk.file === undefined) throw new HttpError(400, `file upload: missing form field '${f.content}' (content)`);
    if (chunkNumber > totalChunks) throw new HttpError(400, `file upload: chunk ${chunkNumber} of ${totalChunks}`);

    const publish = this.publisher(chunk.fields);
    const origin = req.headers.host ?? '';
    const upload = this.store.uploads.get(name);
    const first = upload === undefined;
    if (first) await this.makeRoom();
    if (first) this.store.uploads.set(name, { chunks: new Set(), origin, touched: Date.now() });
    else if (upload.origin === 'startup') upload.origin = origin;
    else if (upload.origin !== origin) throw new HttpError(409, 'File being uploaded is already uploaded in a different session.');
    try {
      if (totalSize > this.c.maxFileSize) throw new HttpError(413, `Size ${totalSize} of file to be uploaded exceeds maximum ${this.c.maxFileSize}`);
      const ext = extname(name);
      if (this.c.fileTypes !== undefined && !this.c.fileTypes.includes(ext)) {
        throw new HttpError(415, `Type '${ext}' of file to be uploaded is not among the allowed types ${this.c.fileTypes.join(', ')}`);
      }
      if (chunk.bytes > totalSize) throw new HttpError(400, `file upload: a chunk of ${chunk.bytes} bytes is larger than the file (${totalSize})`);
      await this.store.putChunkOrFile(name, chunkNumber, totalChunks, chunk.file);
      if (totalChunks > 1) {
        const received = await this.store.received(name);
        if (received > totalSize) {
          await this.store.drop(name);
          throw new HttpError(413, `file upload: ${received} bytes received for a file of ${totalSize}; the upload is dropped`);
        }
      }
    } catch (e) {
      if (first) await this.store.drop(name);
      throw e;
    }
    const base = { id: name, chunk: chunkNumber, name, total: totalSize };
    if (first) publish({ ...base, remaining: totalSize, status: 'started', progress: 0, chunk_extra: chunkExtra });
    if (totalChunks === 1) {
      publish({ ...base, remaining: 0, status: 'finished', progress: 1, finish_extra: finishExtra, chunk_extra: chunkExtra });
      return;
    }
    // As Crossbar.io: the first chunk reports its declared size, later ones the bytes on disk.
    const received = first ? chunkSize : await this.store.received(name);
    const progress = totalSize === 0 ? 1 : round3(received / totalSize);
    publish({ ...base, remaining: totalSize - received, status: 'progress', progress, chunk_extra: chunkExtra });
    if (this.store.uploads.get(name)!.chunks.size >= totalChunks) {
      await this.store.assemble(name, totalChunks);
      publish({ ...base, remaining: 0, status: 'finished', progress: 1, finish_extra: finishExtra, chunk_extra: chunkExtra });
    }
    if (first) await this.store.removeStale();
  }

  /**
   * Before a new upload: unfinished ones idle past `unfinished_timeout` are dropped, and past
   * `max_unfinished_uploads` the new one is refused (503, Retry-After: when the oldest expires),
   * so abandoned uploads cannot fill the disk nor shut the service for good.
   */
  private async makeRoom(): Promise<void> {
    const now = Date.now();
    const dropped = await this.store.dropIdle(now - this.c.unfinishedTimeout);
    if (dropped.length > 0) this.log.info({ uploads: dropped }, 'upload: dropped unfinished uploads idle past unfinished_timeout');
    if (this.store.uploads.size < this.c.maxUnfinished) return;
    const retry = Math.max(1, Math.ceil(((this.store.oldestTouch() ?? now) + this.c.unfinishedTimeout - now) / 1000));
    throw new HttpError(503, `file upload: ${this.store.uploads.size} uploads are unfinished, the most kept at once (max_unfinished_uploads); try again later`, { 'retry-after': retry });
  }

  /** Publishes progress to the form's topic (if any), only to the form's session (if given). */
  private publisher(fields: Map<string, string>): (event: Record<string, unknown>) => void {
    const f = this.c.formFields;
    const topic = f.onProgress === undefined ? undefined : fields.get(f.onProgress);
    if (topic === undefined || topic === '') return () => undefined;
    const session = f.session === undefined ? undefined : Number(fields.get(f.session));
    const options = session !== undefined && Number.isSafeInteger(session) && session > 0 ? { eligible: [session] } : {};
    return (event) => {
      this.session.client().then(
        (c) => c.publish(topic, [event], undefined, options),
        (err: unknown) => this.log.warn({ err, topic }, 'upload: could not publish progress'),
      ).catch((err: unknown) => this.log.warn({ err, topic }, 'upload: could not publish progress'));
    };
  }

  close(): void {
    this.session.close();
  }
}
