/** xbar's version, as pages and the CGI environment announce it (from package.json). */
import { readFileSync } from 'node:fs';

// dist/src/web/services/version.js → the package root is four levels up.
const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };

export const XBAR_VERSION: string = pkg.version;
