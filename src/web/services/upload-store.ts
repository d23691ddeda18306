/**
 * The files of the `upload` web service, laid out as Crossbar.io's `FileUploadResource` lays
 * them out: one folder per unfinished upload in the temporary directory holding `chunk_N` files
 * (each written under a temporary name, then renamed), the finished file assembled there and
 * renamed into the upload directory, so a watcher of that directory never sees half a file.
 * At start, unfinished uploads found in the temporary directory can be resumed; anything else
 * there is removed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Prefix of files being written (Crossbar.io uses a random-looking prefix for the same job). */
const PARTIAL = '#partial#';

export interface Upload {
  readonly chunks: Set<number>;
  /** Who uploads it (the Host header, as Crossbar.io tells uploads apart), or "startup" when found on disk. */
  origin: string;
  /** When its last chunk came (ms since the epoch; the start, for one found on disk). */
  touched: number;
}

export class UploadStore {
  /** Unfinished uploads by file name. */
  readonly uploads = new Map<string, Upload>();

  constructor(
    readonly directory: string,
    readonly tempDirectory: string,
    private readonly permissions: number | undefined,
  ) {}

  /** Creates the temporary directory if needed and takes over the unfinished uploads in it. */
  async start(): Promise<void> {
    await mkdir(this.tempDirectory, { recursive: true });
    for (const name of await readdir(this.tempDirectory)) {
      const path = join(this.tempDirectory, name);
      const s = await stat(path).catch(() => undefined);
      if (s === undefined) continue;
      if (!s.isDirectory()) {
        await rm(path, { force: true });
        continue;
      }
      const chunks = new Set<number>();
      for (const f of await readdir(path)) {
        const n = /^chunk_([1-9]\d*)$/.exec(f);
        if (n) chunks.add(Number(n[1]));
        else await rm(join(path, f), { recursive: true, force: true });
      }
      if (chunks.size === 0) await rm(path, { recursive: true, force: true });
      else this.uploads.set(name, { chunks, origin: 'startup', touched: Date.now() });
    }
  }

  private folder(file: string): string {
    return join(this.tempDirectory, file);
  }

  /** Moves `from` (a temporary file in the temporary directory) to be chunk `n` of `file`. */
  async putChunk(file: string, n: number, from: string): Promise<void> {
    await mkdir(this.folder(file), { recursive: true });
    await rename(from, join(this.folder(file), `chunk_${n}`));
    const upload = this.uploads.get(file);
    if (upload) {
      upload.chunks.add(n);
      upload.touched = Date.now();
    }
  }

  /** Drops the unfinished uploads without a chunk since `before` (ms since the epoch); returns their names. */
  async dropIdle(before: number): Promise<string[]> {
    const idle = [...this.uploads].filter(([, u]) => u.touched < before).map(([name]) => name);
    for (const name of idle) await this.drop(name);
    return idle;
  }

  /** When the least recently touched unfinished upload was touched (undefined: none). */
  oldestTouch(): number | undefined {
    let oldest: number | undefined;
    for (const u of this.uploads.values()) if (oldest === undefined || u.touched < oldest) oldest = u.touched;
    return oldest;
  }

  /** A file sent in one chunk is finished at once; otherwise the chunk joins its upload's folder. */
  async putChunkOrFile(file: string, n: number, totalChunks: number, from: string): Promise<void> {
    if (totalChunks > 1) return this.putChunk(file, n, from);
    await this.finish(from, file);
    this.uploads.delete(file);
  }

  /** Bytes of `file` received so far. */
  async received(file: string): Promise<number> {
    let total = 0;
    for (const f of await readdir(this.folder(file)).catch(() => [] as string[])) {
      total += (await stat(join(this.folder(file), f)).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }

  /** Joins chunks 1…total into the finished file and removes the upload's folder. */
  async assemble(file: string, total: number): Promise<void> {
    const folder = this.folder(file);
    const partial = join(folder, `${PARTIAL}${file}`);
    const out = createWriteStream(partial);
    try {
      for (let n = 1; n <= total; n++) await pipeline(createReadStream(join(folder, `chunk_${n}`)), out, { end: n === total });
    } catch (e) {
      out.destroy();
      throw e;
    }
    await this.finish(partial, file);
    await rm(folder, { recursive: true, force: true });
    this.uploads.delete(file);
  }

  /** Moves a complete file (a temporary file in the temporary directory) into the upload directory. */
  async finish(from: string, file: string): Promise<void> {
    if (this.permissions !== undefined) await chmod(from, this.permissions);
    await moveInto(from, this.directory, file);
  }

  /** Forgets an upload and removes what it has on disk. */
  async drop(file: string): Promise<void> {
    this.uploads.delete(file);
    await rm(this.folder(file), { recursive: true, force: true });
  }

  /** Removes the temporary folders of uploads nobody has (Crossbar.io's `_remove_stale_uploads`). */
  async removeStale(): Promise<void> {
    for (const name of await readdir(this.tempDirectory).catch(() => [] as string[])) {
      if (name.startsWith(PARTIAL) || this.uploads.has(name)) continue;
      const path = join(this.tempDirectory, name);
      if ((await stat(path).catch(() => undefined))?.isDirectory()) await rm(path, { recursive: true, force: true });
    }
  }

  /** A name for a file being received, in the temporary directory. */
  partialName(id: string): string {
    return join(this.tempDirectory, `${PARTIAL}${id}`);
  }
}

/** Renames `from` to `dir/name`; across file systems, copies beside the target first, then renames. */
async function moveInto(from: string, dir: string, name: string): Promise<void> {
  const to = join(dir, name);
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    const near = join(dir, `${PARTIAL}${name}`);
    await copyFile(from, near);
    await rename(near, to);
    await rm(from, { force: true });
  }
}
