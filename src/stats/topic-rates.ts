/**
 * Per-topic event counters for the "top topics" table. Counting is one Map lookup and two
 * increments per publication (not per receiver). Memory is bounded: at most `maxTopics` topics
 * are tracked; a topic quiet for `forgetAfterS` seconds is forgotten (a quiet topic stays listed
 * until then, so a burst that just ended is still in the table), and while the table is full, new
 * topics are counted together under `other`.
 */
export interface TopicCount {
  /** Publications reaching this node (local and from other nodes). */
  publications: number;
  /** EVENTs sent to local subscribers. */
  events: number;
}

interface Tracked extends TopicCount {
  lastPublications: number;
  lastEvents: number;
  quietS: number;
}

export interface TopicRate {
  readonly topic: string;
  readonly publications_per_s: number;
  readonly events_per_s: number;
  readonly publications: number;
  readonly events: number;
}

export class TopicRates {
  private readonly topics = new Map<string, Tracked>();
  /** Publications on topics that found the table full. */
  readonly other: TopicCount = { publications: 0, events: 0 };
  private top: TopicRate[] = [];

  constructor(
    private readonly maxTopics: number,
    private readonly topN: number,
    private readonly forgetAfterS = 60,
  ) {}

  count(topic: string, events: number): void {
    let t = this.topics.get(topic);
    if (t === undefined) {
      if (this.topics.size >= this.maxTopics) {
        this.other.publications++;
        this.other.events += events;
        return;
      }
      t = { publications: 0, events: 0, lastPublications: 0, lastEvents: 0, quietS: 0 };
      this.topics.set(topic, t);
    }
    t.publications++;
    t.events += events;
  }

  /** Closes an interval of `seconds`: computes the rates, keeps the top N, forgets long-quiet topics. */
  sample(seconds: number): void {
    const rates: TopicRate[] = [];
    for (const [topic, t] of this.topics) {
      const dp = t.publications - t.lastPublications;
      const de = t.events - t.lastEvents;
      if (dp === 0 && de === 0) {
        t.quietS += seconds;
        if (t.quietS >= this.forgetAfterS) {
          this.topics.delete(topic);
          continue;
        }
      } else t.quietS = 0;
      t.lastPublications = t.publications;
      t.lastEvents = t.events;
      rates.push({ topic, publications_per_s: dp / seconds, events_per_s: de / seconds, publications: t.publications, events: t.events });
    }
    rates.sort((a, b) => b.events_per_s - a.events_per_s || b.publications_per_s - a.publications_per_s || (a.topic < b.topic ? -1 : 1));
    this.top = rates.slice(0, this.topN);
  }

  /** The busiest topics of the last interval, by events sent per second. */
  busiest(): readonly TopicRate[] {
    return this.top;
  }

  get tracked(): number {
    return this.topics.size;
  }
}
