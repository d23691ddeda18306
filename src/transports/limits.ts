/** What a transport endpoint's configuration bounds on each of its connections. */

export type SlowConsumerPolicy = 'drop' | 'disconnect';

export interface ConnectionLimits {
  /** Largest incoming message in bytes. */
  readonly maxMessageSize: number;
  /** High-water mark of the outgoing buffer in bytes. */
  readonly maxOutBuffer: number;
  readonly slowConsumer: SlowConsumerPolicy;
  /** Count messages and bytes each way (statistics on); two integer additions per message. */
  readonly countTraffic?: boolean;
}
