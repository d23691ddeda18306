/**
 * Finding a guest's executable as Crossbar.io does (`_start_guest_worker`): the configured path
 * joined to the working directory if that is an executable file, else the name looked up on the
 * PATH (Python's `shutil.which`, with the node's PATH); otherwise the start fails naming it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export function isExecutableFile(file: string): boolean {
  try {
    if (statSync(file).isDirectory()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path to run, or undefined when there is none. */
export function resolveExecutable(executable: string, workdir: string, pathVar: string | undefined = process.env.PATH): string | undefined {
  const direct = resolve(workdir, executable);
  if (isExecutableFile(direct)) return direct;
  // which() looks a bare name up on PATH; a name with a directory part is only tried as given.
  if (isAbsolute(executable) || executable.includes('/')) return undefined;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, executable);
    if (isExecutableFile(candidate)) return resolve(candidate);
  }
  return undefined;
}
