/**
 * A directory listing page, as Twisted's `DirectoryLister` renders one for Crossbar.io's
 * `enable_directory_listing`: a table of names (folders with a trailing "/"), sizes and types.
 * Dot files are left out, as they are not served.
 */
import { readdir, stat } from 'node:fs/promises';
import type http from 'node:http';
import { join } from 'node:path';
import type { MimeTypes } from '../../config/types-web.js';
import { fileType } from './content-type.js';
import { escapeHtml, page, reply } from './http-util.js';

function size(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(0)}M`;
  return `${(n / 1024 ** 3).toFixed(0)}G`;
}

export async function listDirectory(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  directory: string,
  urlPath: string,
  types: MimeTypes,
): Promise<void> {
  const names = (await readdir(directory)).filter((n) => !n.startsWith('.')).sort();
  const rows: string[] = [];
  for (const name of names) {
    const s = await stat(join(directory, name)).catch(() => undefined);
    if (s === undefined) continue;
    const dir = s.isDirectory();
    const t = dir ? { type: '[Directory]' } : fileType(name, types);
    const href = encodeURIComponent(name) + (dir ? '/' : '');
    rows.push(
      `<tr><td><a href="${href}">${escapeHtml(name)}${dir ? '/' : ''}</a></td><td>${dir ? '' : size(s.size)}</td>` +
        `<td>${escapeHtml(t.type)}</td><td>${escapeHtml(t.encoding ?? '')}</td></tr>`,
    );
  }
  const title = `Directory listing for ${urlPath.endsWith('/') ? urlPath : `${urlPath}/`}`;
  const table = `<table>\n<tr><th>Filename</th><th>Size</th><th>Content type</th><th>Content encoding</th></tr>\n${rows.join('\n')}\n</table>`;
  reply(req, res, 200, page(title, table), { 'content-type': 'text/html; charset=utf-8' });
}
