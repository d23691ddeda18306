/**
 * Watching directories for changes (a guest's `options.watch`), recursively, as Crossbar.io's
 * `FilesystemWatcher` (watchdog, `recursive=True`). After a change is reported, further changes
 * are ignored for `holdMs`, so a burst of writes makes one report.
 */
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export class DirectoryWatch {
  private readonly watchers: FSWatcher[] = [];
  private quietUntil = 0;

  constructor(directories: readonly string[], private readonly holdMs: number, private readonly changed: (file: string) => void, log: Logger) {
    for (const dir of directories) {
      try {
        const w = watch(dir, { recursive: true }, (_event, name) => this.report(name === null ? dir : join(dir, name.toString())));
        w.on('error', (err) => log.warn({ dir, err: err.message }, 'cannot watch directory any more'));
        this.watchers.push(w);
      } catch (e) {
        log.warn({ dir, err: (e as Error).message }, 'cannot watch directory');
      }
    }
  }

  private report(file: string): void {
    const now = Date.now();
    if (now < this.quietUntil) return;
    this.quietUntil = now + this.holdMs;
    this.changed(file);
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }
}
