/**
 * The one poll of the test suite: waits until `condition` gives a value (anything but false,
 * undefined or null), checking every `everyMs`, and resolves with it; fails naming `what` after
 * `ms`. Tests wait for a state this way, never for a fixed time.
 */
export async function eventually<T>(
  condition: () => T | false | undefined | null | Promise<T | false | undefined | null>, what: string, ms = 5000, everyMs = 5,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value !== false && value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
