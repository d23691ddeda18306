/** WAMP message codes (basic/messages.md, message codes table). */
export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
} as const;

export type MessageCode = (typeof MessageType)[keyof typeof MessageType];

export const MESSAGE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(MessageType).map(([name, code]) => [code, name]),
);

/** Request types an ERROR may answer (basic/messages.md, ERROR). */
export const ERROR_REQUEST_TYPES: ReadonlySet<number> = new Set([
  MessageType.PUBLISH,
  MessageType.SUBSCRIBE,
  MessageType.UNSUBSCRIBE,
  MessageType.CALL,
  MessageType.REGISTER,
  MessageType.UNREGISTER,
  MessageType.INVOCATION,
  MessageType.CANCEL,
]);
