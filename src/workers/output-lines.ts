/**
 * A worker's stdout/stderr as log lines, as Crossbar.io logs them (`WorkerProcess.log`): split
 * at line ends, each line trimmed, blank lines skipped. A process that writes without line ends
 * cannot grow the buffer without bound: past `maxLine` characters the text so far is emitted.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/** Longest line kept whole, characters. */
export const MAX_LINE = 16 * 1024;

export function eachLine(stream: Readable, emit: (line: string) => void, maxLine = MAX_LINE): void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const flush = (text: string) => {
    const line = text.trim();
    if (line !== '') emit(line);
  };
  stream.on('data', (chunk: Buffer) => {
    partial += decoder.write(chunk);
    let nl: number;
    while ((nl = partial.search(/\r?\n/)) >= 0) {
      flush(partial.slice(0, nl));
      partial = partial.slice(partial[nl] === '\r' ? nl + 2 : nl + 1);
    }
    while (partial.length > maxLine) {
      flush(partial.slice(0, maxLine));
      partial = partial.slice(maxLine);
    }
  });
  stream.on('end', () => flush(partial + decoder.end()));
  stream.on('error', () => {
    // The process is gone; its exit is reported by the supervisor.
  });
}
