/**
 * Reading a node configuration: file → text → document (JSON or YAML) → validated, normalized
 * `NodeConfig`. Every failure is a `ConfigError` listing all problems found at that stage, one
 * line each: syntax errors as `file:line:column: …`, schema problems as `key.path: …`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { crossChecks } from './checks.js';
import { ConfigError, formatPath, problemsOf, type KeyPath } from './issues.js';
import { jsonErrorOffset, lineColumn } from './json-position.js';
import { LoadContext } from './load-context.js';
import { normalize } from './normalize.js';
import { nodeConfigDocument } from './schema.js';
import type { NodeConfig } from './types.js';
import { configWarnings } from './warnings.js';

export type ConfigFormat = 'json' | 'yaml';

/** The format a file name implies, as Crossbar.io decides it: by extension. */
export function formatOf(path: string): ConfigFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return undefined;
}

/**
 * Validates a parsed document, fills defaults and reads the files it names (TLS keys, JWT keys),
 * relative to `baseDir` (default: the working directory). Throws `ConfigError`.
 */
export function parseConfig(doc: unknown, source: string, baseDir = process.cwd()): NodeConfig {
  const placeholders = templatePlaceholders(doc);
  if (placeholders.length > 0) throw new ConfigError(source, placeholders);
  const result = nodeConfigDocument.safeParse(doc);
  if (!result.success) throw new ConfigError(source, problemsOf(result.error, doc));
  const problems = crossChecks(result.data);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const ctx = new LoadContext(baseDir);
  const config = normalize(result.data, ctx);
  if (ctx.problems.length > 0) throw new ConfigError(source, ctx.problems);
  const warnings = configWarnings(result.data);
  return warnings.length > 0 ? { ...config, warnings } : config;
}

/**
 * Jinja placeholders ("{{ realm }}") left in a config: Crossbar.io's `crossbar init` templates fill
 * them in when they make a node directory, and Crossbar.io reads the file as it is (and refuses
 * the value, e.g. as a realm name), so does xbar — with what to do.
 */
function templatePlaceholders(doc: unknown, at: KeyPath = [], out: string[] = []): string[] {
  if (typeof doc === 'string') {
    const m = /^\{\{\s*([\w.]+)\s*\}\}$/.exec(doc);
    if (m) out.push(`${formatPath(at)}: ${JSON.stringify(doc)} is an unrendered template placeholder (Crossbar.io's "crossbar init" fills these in; Crossbar.io refuses it as a value too): replace {{ ${m[1]} }} with the value`);
  } else if (Array.isArray(doc)) doc.forEach((v, i) => templatePlaceholders(v, [...at, i], out));
  else if (typeof doc === 'object' && doc !== null) for (const [k, v] of Object.entries(doc)) templatePlaceholders(v, [...at, k], out);
  return out;
}

/** V8's reason without its copy of the text or offset; line and column are given separately. */
function jsonReason(message: string): string {
  return message
    .replace(/,\s*(\.\.\.)?".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\s+/g, ' ');
}

function syntaxError(source: string, text: string, offset: number, message: string): string {
  const { line, column } = lineColumn(text, offset);
  return `${source}:${line}:${column}: ${message}`;
}

/** The document in `text`; throws `ConfigError` naming line and column of each syntax error. */
export function readDocument(text: string, format: ConfigFormat, source: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') throw new ConfigError(source, [`${source}: the file is empty`]);
  if (format === 'json') {
    try {
      return JSON.parse(body) as unknown;
    } catch (err) {
      const offset = jsonErrorOffset(body) ?? body.length;
      throw new ConfigError(source, [syntaxError(source, body, offset, `JSON syntax error: ${jsonReason((err as Error).message)}`)]);
    }
  }
  const doc = parseDocument(body, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => syntaxError(source, body, e.pos[0], `YAML syntax error: ${e.message.split('\n')[0] ?? ''}`)),
    );
  }
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

/** Parses and validates configuration text. Throws `ConfigError`. */
export function parseConfigText(text: string, format: ConfigFormat, source: string, baseDir?: string): NodeConfig {
  return parseConfig(readDocument(text, format, source), source, baseDir);
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return (err as Error).message;
}

/** Loads a `.json`, `.yaml` or `.yml` node configuration. Throws `ConfigError`. */
export async function loadConfigFile(path: string): Promise<NodeConfig> {
  const format = formatOf(path);
  if (format === undefined) {
    throw new ConfigError(path, [`${path}: unknown configuration file type; expected .json, .yaml or .yml`]);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`${path}: cannot read configuration: ${readFailure(err)}`]);
  }
  // Relative file names in the config are relative to its directory, as Crossbar.io's node directory.
  return parseConfigText(text, format, path, dirname(resolve(path)));
}
