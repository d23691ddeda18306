/**
 * The one poll of the test suite: waits until `condition` holds, checking every `everyMs`, and
 * fails naming `what` after `ms`. Resolves with the time it took. Tests wait for a state this
 * way, never for a fixed time.
 */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, ms = 5000, everyMs = 5): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - started;
}
