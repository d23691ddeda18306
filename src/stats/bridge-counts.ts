/**
 * What the HTTP bridge dropped, for `/metrics`: events an SSE stream missed or streams closed
 * for being slow, and events or calls the outbound bridge (MessageForwarder, RESTCallee) gave up
 * on. Counted where it happens; nothing here is per delivered message.
 */
import { LabeledCount } from '../network/refusals.js';

export class BridgeCounts {
  /** path: the sse mount; reason: event (one event missed) | stream (stream closed). */
  readonly sseDropped = new LabeledCount(['path', 'reason'] as const);
  /** component: its id; reason: queue_full | failed (retries exhausted) | stopped. */
  readonly outboundDropped = new LabeledCount(['component', 'reason'] as const);
  /** component: its id; HTTP requests retried after a failure. */
  readonly outboundRetries = new LabeledCount(['component'] as const);
}
