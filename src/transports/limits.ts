/** What a transport endpoint's configuration bounds on each of its connections. */
import type { OutBudget } from './out-budget.js';

export type SlowConsumerPolicy = 'drop' | 'disconnect';

export interface ConnectionLimits {
  /** Largest incoming message in bytes. */
  readonly maxMessageSize: number;
  /** High-water mark of the outgoing buffer in bytes. */
  readonly maxOutBuffer: number;
  readonly slowConsumer: SlowConsumerPolicy;
  /** ms an outgoing buffer may go without draining before its connection is the slow one; 0 = never. */
  readonly slowConsumerTimeout?: number;
  /** High-water mark of the outgoing buffer before the session is joined (WELCOME), bytes. */
  readonly maxHandshakeOutBuffer?: number;
  /** ms a frame that has started arriving may take to arrive whole; 0 = no limit. */
  readonly readTimeout?: number;
  /** The node's budget of all out-buffers together; default: none (accounting only). */
  readonly outBudget?: OutBudget;
  /** Count messages and bytes each way (statistics on); two integer additions per message. */
  readonly countTraffic?: boolean;
}
