/**
 * Zod schemas of xbar's network settings (Crossbar.io has none of them): lists of client networks,
 * the access control of path services, and the load-balancer keys of a TCP endpoint.
 *
 *   path service "access": {"token": "…", "networks": ["10.0.0.0/8", "::1"]}
 *
 * and the patterns of Crossbar.io's `allowed_origins` (WebSocket options, relay paths).
 */
import { z } from 'zod';
import { networkError } from '../network/networks.js';
import { originPatternError } from '../network/origin.js';
import { expect, listOf, strict, strings } from './schema-kit.js';

/** Addresses or CIDR networks, IPv4 or IPv6. */
export const networks = () =>
  listOf(z.string(expect('network such as "10.0.0.0/8" or "::1"')), 'networks', 1).check((ctx) => {
    ctx.value.forEach((n, i) => {
      const message = networkError(n);
      if (message !== undefined) ctx.issues.push({ code: 'custom', path: [i], input: n, message });
    });
  });

/** Crossbar.io's `allowed_origins`: wildcard patterns ("*" anything, "." literal, else a regular expression). */
export const originPatterns = () =>
  strings().check((ctx) => {
    ctx.value.forEach((p, i) => {
      const message = originPatternError(p);
      if (message !== undefined) ctx.issues.push({ code: 'custom', path: [i], input: p, message });
    });
  });

/** Who may use a path service: clients from `networks`, presenting `token`; each optional. */
export const accessControl = strict({
  /** Bearer token (or `?token=`), at least 16 characters. */
  token: z.string(expect('string of at least 16 characters')).min(16).optional(),
  networks: networks().optional(),
});

export type AccessDocument = z.output<typeof accessControl>;
