/**
 * The Content-Type (and Content-Encoding) of a file by its name, as Twisted's `static.File`
 * decides it for Crossbar.io: a ".gz" or ".bz2" suffix is an encoding and the type comes from the
 * extension before it ("app.js.gz" → text/javascript, gzip); Crossbar.io adds ".svg" and ".jgz";
 * a service's `mime_types` win. xbar differs in one way: a name it has no type for is
 * application/octet-stream (Twisted says text/html, which would render any unknown file as a page).
 */
import mime from 'mime-types';
import type { MimeTypes } from '../../config/types-web.js';

const ENCODINGS: Readonly<Record<string, string>> = { '.gz': 'gzip', '.bz2': 'bzip2' };
/** Crossbar.io's `EXTRA_MIME_TYPES` (`webservice/static.py`). */
const CROSSBAR_TYPES: MimeTypes = { '.svg': 'image/svg+xml', '.jgz': 'text/javascript' };

export interface FileType {
  readonly type: string;
  readonly encoding?: string;
}

/** The configured type whose extension is the longest suffix of `name` (".min.js" before ".js"). */
function configured(name: string, types: MimeTypes): string | undefined {
  let best: string | undefined;
  let length = 0;
  for (const [ext, type] of Object.entries(types)) {
    if (ext.length > length && name.toLowerCase().endsWith(ext.toLowerCase())) {
      best = type;
      length = ext.length;
    }
  }
  return best;
}

function extension(name: string): string {
  const i = name.lastIndexOf('.');
  return i <= 0 ? '' : name.slice(i).toLowerCase();
}

export function fileType(name: string, types: MimeTypes): FileType {
  const own = configured(name, types) ?? configured(name, CROSSBAR_TYPES);
  if (own !== undefined) return { type: own };
  const ext = extension(name);
  const encoding = ENCODINGS[ext];
  const inner = encoding === undefined ? name : name.slice(0, -ext.length);
  const type = configured(inner, types) ?? configured(inner, CROSSBAR_TYPES) ?? (mime.contentType(extension(inner)) || 'application/octet-stream');
  return encoding === undefined ? { type } : { type, encoding };
}
