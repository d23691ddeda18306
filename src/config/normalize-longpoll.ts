/** A validated `longpoll` path document → its `LongPollPathConfig` (seconds become ms). */
import { LONGPOLL_DEFAULTS, type LongPollPathDocument } from './schema-longpoll.js';
import type { LongPollPathConfig } from './types.js';
import type { SerializerId } from '../serializers/serializer.js';

export function longpollPath(
  d: LongPollPathDocument,
  session: { readonly serializers: readonly SerializerId[]; readonly maxMessageSize: number; readonly helloTimeout: number },
): LongPollPathConfig {
  const o = d.options ?? {};
  const bytes = o.queue_limit_bytes ?? LONGPOLL_DEFAULTS.queueLimitBytes;
  return {
    type: 'longpoll',
    ...session,
    requestTimeout: (o.request_timeout ?? LONGPOLL_DEFAULTS.requestTimeout) * 1000,
    sessionTimeout: (o.session_timeout ?? LONGPOLL_DEFAULTS.sessionTimeout) * 1000,
    queueLimitBytes: bytes === 0 ? LONGPOLL_DEFAULTS.unlimitedQueueBytes : bytes,
    queueLimitMessages: o.queue_limit_messages ?? LONGPOLL_DEFAULTS.queueLimitMessages,
    ...(o.debug_transport_id === undefined ? {} : { debugTransportId: o.debug_transport_id }),
  };
}
