/**
 * Scatter-gather queries of the meta API across nodes (`Backplane.query`): a query goes to
 * `P.meta.<realm>`, every other live node answers with its part, the asker waits for as many
 * answers as there are live others or `maxWaitMs`, whichever comes first.
 */
import { type Msg, type NatsConnection, RequestStrategy } from 'nats';
import type { Dict } from '../../wamp/messages.js';
import type { BackplaneHandlers } from '../backplane.js';
import { decodeAnswer, decodeQuery, encodeAnswer, encodeQuery } from './frame.js';
import type { NatsLink } from './link.js';
import type { Membership } from './membership.js';
import { decodeToken } from './subjects.js';

export class NatsMetaQueries {
  constructor(
    private readonly link: NatsLink,
    private readonly membership: Membership,
    private readonly handlers: () => BackplaneHandlers | undefined,
  ) {}

  start(nc: NatsConnection): void {
    this.link.subscribe(nc, `${this.link.subjects.prefix}.meta.>`, (msg) => this.answer(msg));
  }

  async query(realm: string, query: Dict, maxWaitMs = 500): Promise<Dict[]> {
    const nc = this.link.open();
    const others = this.membership.live().size - 1;
    if (!nc || others <= 0) return [];
    const answers: Dict[] = [];
    try {
      const replies = await nc.requestMany(this.link.subjects.meta(realm), encodeQuery(query), {
        maxWait: maxWaitMs, maxMessages: others, strategy: RequestStrategy.Count,
      });
      for await (const m of replies) {
        try {
          answers.push(decodeAnswer(m.data));
        } catch (err) {
          this.link.complaints.warn('meta-answer', { realm, why: (err as Error).message }, 'malformed meta query answer left out');
        }
      }
    } catch (err) {
      this.link.log.warn({ err, realm }, 'meta query failed');
    }
    if (answers.length < others) this.link.log.debug({ realm, answered: answers.length, expected: others }, 'meta query: some nodes were silent');
    return answers;
  }

  /** Another node asks about this node's part of a realm. */
  private answer(msg: Msg): void {
    if (!msg.reply) return;
    const query = decodeQuery(msg.data);
    const realm = decodeToken(msg.subject.slice(`${this.link.subjects.prefix}.meta.`.length));
    let answer: Dict | undefined;
    try {
      answer = this.handlers()?.metaQuery(realm, query);
    } catch (err) {
      this.link.log.warn({ err, realm }, 'meta query handler failed; answering with nothing');
    }
    msg.respond(encodeAnswer(answer ?? {}));
  }
}
