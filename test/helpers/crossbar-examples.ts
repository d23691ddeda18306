import { fileURLToPath } from 'node:url';

/**
 * A path inside test/fixtures/crossbar-examples: files copied unchanged from
 * crossbario/crossbar-examples, so the tests that start nodes from them run on a clean clone.
 */
export function crossbarExample(rel = ''): string {
  return fileURLToPath(new URL(`../../../test/fixtures/crossbar-examples/${rel}`, import.meta.url));
}
