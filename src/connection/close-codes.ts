/**
 * Close codes (RFC 6455 §7.4.1), the vocabulary in which the router and the transports say why a
 * connection ends. A WebSocket sends them in its close frame; a RawSocket has no close frame and
 * only reports them in its CloseCause (logs, statistics).
 */
export const CloseCode = {
  /** The session ended (GOODBYE, ABORT). */
  normal: 1000,
  /** The router shuts down, or the peer stopped answering pings. */
  goingAway: 1001,
  /** Bad framing. */
  protocolError: 1002,
  /** The connection was lost without a close (reported, never sent). */
  abnormal: 1006,
  /** A text frame that is not UTF-8. */
  invalidData: 1007,
  /** A limit of the router (slow consumer, budgets). */
  policyViolation: 1008,
  /** A message larger than a maximum. */
  tooBig: 1009,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
