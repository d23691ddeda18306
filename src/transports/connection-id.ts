let last = 0;

/** Process-unique connection ids, for logs and statistics. */
export function nextConnectionId(): number {
  return ++last;
}
