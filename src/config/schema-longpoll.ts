/**
 * The `longpoll` path service: WAMP over HTTP long-poll, with the options of Crossbar.io's
 * `check_web_path_service_longpoll` (crossbar/common/checkconfig.py). Times are seconds, as there.
 */
import { z } from 'zod';
import { bool, expect, int, strict, tag } from './schema-kit.js';

const MiB = 1024 * 1024;

export const longpollPath = strict({
  type: tag('longpoll', 'path service type'),
  id: z
    .string(expect('string'))
    .regex(/^[a-z][a-z0-9_]{2,63}$/, expect('id of 3-64 characters a-z, 0-9 or "_", starting with a letter'))
    .optional(),
  options: strict({
    /** Logging detail in Crossbar.io; xbar logs at the node's level. */
    debug: bool().optional(),
    /** Every open gets this transport id (a second open replaces the first): for curl sessions. */
    debug_transport_id: z.string(expect('transport id of letters, digits, "_" or "-"')).regex(/^[A-Za-z0-9_-]{1,64}$/, expect('transport id of letters, digits, "_" or "-"')).optional(),
    /** A poll with nothing to deliver is answered empty after this long; 0 = never. */
    request_timeout: int(0, 3600, 'seconds').optional(),
    /** A transport neither sending nor polling for this long is closed; 0 = never. */
    session_timeout: int(0, 86_400, 'seconds').optional(),
    /** Bytes waiting for the next poll; 0 = xbar's default cap (a queue is always bounded). */
    queue_limit_bytes: int(0, 1024 * MiB, 'bytes').optional(),
    /** Messages waiting for the next poll; 0 = no count limit (the byte limit still applies). */
    queue_limit_messages: int(0, 10_000_000, 'messages').optional(),
  }).optional(),
});

export type LongPollPathDocument = z.output<typeof longpollPath>;

/** Crossbar.io's defaults (`RouterWebServiceLongPoll.create`). */
export const LONGPOLL_DEFAULTS = {
  requestTimeout: 10,
  sessionTimeout: 30,
  queueLimitBytes: 128 * 1024,
  queueLimitMessages: 100,
  /** What `queue_limit_bytes: 0` means in xbar: the WebSocket out-buffer default. */
  unlimitedQueueBytes: 4 * MiB,
} as const;
