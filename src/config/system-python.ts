import { existsSync } from 'node:fs';

/**
 * The system's Python 3, as Crossbar.io's own interpreter would be: `/usr/bin/python3` (where
 * Debian's python3-autobahn is), else `python3` on the PATH. Components, function authenticators,
 * wsgi/resource apps and package-resource lookups all use this one unless the config names another.
 */
export function systemPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}
