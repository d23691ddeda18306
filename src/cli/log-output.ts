/**
 * Where the command's log goes: pino's JSON lines (for files, pipes and log collectors), or at a
 * terminal one readable line per record — time, level, message, then the record's own fields.
 */
import pino, { type Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** `pretty` when stdout is a terminal, else `json`; `format` overrides. */
export function createLogger(level: string, format?: LogFormat): Logger {
  const out = process.stdout;
  if ((format ?? (out.isTTY ? 'pretty' : 'json')) === 'json') return pino({ level });
  const color = out.isTTY === true && process.env.NO_COLOR === undefined;
  // pid and hostname say nothing at a terminal; the stream formats each JSON line pino writes.
  return pino({ level, base: null }, { write: (line: string) => void out.write(prettyLine(line, color)) });
}

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '\x1b[90m' },
  20: { name: 'DEBUG', color: '\x1b[90m' },
  30: { name: 'INFO ', color: '\x1b[32m' },
  40: { name: 'WARN ', color: '\x1b[33m' },
  50: { name: 'ERROR', color: '\x1b[31m' },
  60: { name: 'FATAL', color: '\x1b[41m' },
};

/** One pino JSON line as `HH:MM:SS.mmm LEVEL message key=value …` (newline-terminated). */
export function prettyLine(json: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { time, level, msg, pid: _pid, hostname: _hostname, ...fields } = record;
  const when = typeof time === 'number' ? clock(new Date(time)) : '';
  const lv = LEVELS[level as number] ?? { name: String(level).toUpperCase().padEnd(5), color: '' };
  const levelText = color ? `${lv.color}${lv.name}\x1b[0m` : lv.name;
  const parts = [when, levelText, typeof msg === 'string' ? msg : ''];
  for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${fieldText(key, value)}`);
  return `${parts.filter((p) => p !== '').join(' ')}\n`;
}

function clock(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Bare words stay bare, other strings are quoted; an error shows its message, not its stack. */
function fieldText(key: string, value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if ((key === 'err' || key === 'error') && value && typeof value === 'object' && 'message' in value) {
    return JSON.stringify((value as { message: unknown }).message);
  }
  return JSON.stringify(value);
}
