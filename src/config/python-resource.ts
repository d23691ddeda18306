/**
 * Where a Python package resource is on disk, found the way Crossbar.io finds it for a `static`
 * service or `wap` templates (`importlib.import_module(package)`, then
 * `importlib.resources.files(package) / resource`), by asking the system's Python 3 (the one components run under).
 */
import { execFileSync } from 'node:child_process';
import { systemPython } from './system-python.js';

const SCRIPT = [
  'import importlib, os, sys',
  'from importlib.resources import files',
  'importlib.import_module(sys.argv[1])',
  'sys.stdout.write(os.path.abspath(str(files(sys.argv[1]) / sys.argv[2])))',
].join('\n');

/** The absolute path of `resource` in `pkg`, or an explanation of why it cannot be found. */
export function packageResource(pkg: string, resource: string): { path: string } | { problem: string } {
  const python = systemPython();
  try {
    const path = execFileSync(python, ['-c', SCRIPT, pkg, resource], {
      encoding: 'utf8',
      timeout: 15_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { path };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      return { problem: `cannot look up Python package ${JSON.stringify(pkg)}: ${python} is not installed (install python3, or serve a "directory" instead)` };
    }
    const last = (e.stderr ?? '').trim().split('\n').pop() ?? e.message;
    return { problem: `could not import resource ${JSON.stringify(resource)} from Python package ${JSON.stringify(pkg)}: ${last}` };
  }
}
