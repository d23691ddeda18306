/**
 * Chaos: 10,000 mixed calls (plain, application errors, progressive results, timeouts, cancels in
 * every mode) from 20 callers to 5 callees of one shared roundrobin registration, while callees
 * and callers randomly leave (GOODBYE or a dropped connection) and come back. A seeded PRNG makes
 * a run repeatable: XBAR_CHAOS_SEED=<n> replays one.
 *
 * Checked per call: a call whose caller stays connected gets exactly one final RESULT or ERROR,
 * with its own arguments, and no progressive RESULT after it; a call whose caller leaves first
 * is "abandoned" (nobody is left to answer) and must not have been answered twice either. At the
 * end the dealer's pending-call tables are empty. Raw JSON peers keep the run under seconds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { FULL_ROLES, M, type Msg, RawPeer, prng } from '../../helpers/raw-rpc.js';
import { eventually } from '../../helpers/eventually.js';

const TOTAL = 10_000;
const CALLERS = 20;
const CALLEES = 5;
/** Calls each caller keeps outstanding. */
const WINDOW = 8;
const SEED = Number(process.env.XBAR_CHAOS_SEED ?? 20_260_411);
const PROCEDURE = 'com.chaos.work';
const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

type Kind = 'plain' | 'progress' | 'timeout' | 'skip' | 'kill' | 'killnowait';

interface CallRecord {
  readonly tag: string;
  readonly kind: Kind;
  finals: number;
  progress: number;
  progressAfterFinal: number;
  abandoned: boolean;
  outcome: string;
}

interface CallerSlot { peer: RawPeer | undefined; tag: string; outstanding: Map<number, CallRecord> }

describe('rpc chaos', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it(`gives each of ${TOTAL} calls exactly one answer while ${CALLERS} callers and ${CALLEES} callees come and go (seed ${SEED})`, async () => {
    const rand = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const records: CallRecord[] = [];
    const byTag = new Map<string, CallRecord>();
    const violations: string[] = [];
    let sent = 0;
    let generation = 0;
    const stats = { calleeLeaves: 0, callerLeaves: 0, interrupts: 0 };

    // ---- callees: echo the arguments; sometimes fail, stream progress, or take a while ----
    const callees: (RawPeer | undefined)[] = Array.from({ length: CALLEES }, () => undefined);
    const reconnecting = new Set<Promise<void>>();

    function serve(peer: RawPeer): void {
      const held = new Map<number, NodeJS.Timeout | undefined>();
      const answer = (inv: Msg) => {
        const id = inv[1] as number;
        if (!held.has(id) || !peer.isOpen) return;
        held.delete(id);
        const args = inv[4] as unknown[];
        const details = inv[3] as Record<string, unknown>;
        if (details.receive_progress) {
          const n = 1 + Math.floor(rand() * 3);
          for (let k = 0; k < n; k++) peer.yield(id, [...args, 'p', k], undefined, { progress: true });
        }
        if (rand() < 0.15) peer.error(id, 'com.chaos.error.app', args, { why: 'by design' });
        else peer.yield(id, args);
      };
      peer.listener = (m) => {
        if (m[0] === M.INVOCATION) {
          const id = m[1] as number;
          held.set(id, undefined);
          const r = rand();
          if (r < 0.6) setImmediate(() => answer(m));
          else held.set(id, setTimeout(() => answer(m), Math.floor(rand() * 30)));
          return true;
        }
        if (m[0] === M.INTERRUPT) {
          stats.interrupts++;
          const id = m[1] as number;
          if (!held.has(id)) return true; // answered already: the answers crossed
          clearTimeout(held.get(id));
          held.delete(id);
          if ((m[2] as Record<string, unknown>).mode === 'kill') peer.error(id, 'wamp.error.canceled', ['interrupted']);
          return true;
        }
        return false;
      };
    }

    async function startCallee(i: number): Promise<void> {
      const peer = await RawPeer.connect(t.wsUrl, FULL_ROLES);
      // Serving starts before REGISTERED is seen: INVOCATIONs may follow it in the same read.
      serve(peer);
      await peer.register(PROCEDURE, { invoke: 'roundrobin' });
      callees[i] = peer;
    }

    function bounceCallee(): void {
      const live = callees.map((p, i) => [p, i] as const).filter(([p]) => p !== undefined);
      if (live.length === 0) return;
      const [peer, i] = pick(live);
      callees[i] = undefined;
      stats.calleeLeaves++;
      const leave = rand() < 0.5 ? peer!.goodbye() : peer!.kill();
      const back = leave.then(() => startCallee(i)).finally(() => reconnecting.delete(back));
      reconnecting.add(back);
    }

    // ---- callers: keep WINDOW calls outstanding until TOTAL calls have been sent ----
    const callers: CallerSlot[] = [];
    let finish!: () => void;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    const checkDone = () => {
      if (sent < TOTAL || reconnecting.size > 0) return;
      if (callers.every((c) => c.peer === undefined || c.outstanding.size === 0)) finish();
    };

    function onCallerMessage(slot: CallerSlot, m: Msg): boolean {
      const isResult = m[0] === M.RESULT;
      const isError = m[0] === M.ERROR && m[1] === M.CALL;
      if (!isResult && !isError) return false;
      const request = (isResult ? m[1] : m[2]) as number;
      const rec = slot.outstanding.get(request) ?? byTag.get(`${slot.tag}:${request}`);
      if (!rec) {
        violations.push(`${slot.tag}: answer to unknown request ${request}`);
        return true;
      }
      const [, seq] = rec.tag.split(':');
      const echoed = (isResult ? m[3] : m[5]) as unknown[] | undefined;
      if (isResult && (m[2] as Record<string, unknown>).progress) {
        if (rec.finals > 0) rec.progressAfterFinal++;
        rec.progress++;
        if (echoed?.[0] !== slot.tag || String(echoed?.[1]) !== seq) violations.push(`${rec.tag}: progress for another call ${JSON.stringify(echoed)}`);
        return true;
      }
      rec.finals++;
      rec.outcome = isResult ? 'result' : (m[4] as string);
      if ((isResult || m[4] === 'com.chaos.error.app') && (echoed?.[0] !== slot.tag || String(echoed?.[1]) !== seq)) {
        violations.push(`${rec.tag}: answer carries another call's arguments ${JSON.stringify(echoed)}`);
      }
      slot.outstanding.delete(request);
      pump(slot);
      checkDone();
      return true;
    }

    function send(slot: CallerSlot): void {
      const peer = slot.peer!;
      const r = rand();
      const kind: Kind = r < 0.6 ? 'plain' : r < 0.72 ? 'progress' : r < 0.8 ? 'timeout' : pick(['skip', 'kill', 'killnowait'] as const);
      const request = peer.nextId();
      const rec: CallRecord = { tag: `${slot.tag}:${request}`, kind, finals: 0, progress: 0, progressAfterFinal: 0, abandoned: false, outcome: '' };
      records.push(rec);
      byTag.set(rec.tag, rec);
      slot.outstanding.set(request, rec);
      const options: Record<string, unknown> = {};
      if (kind === 'progress') options.receive_progress = true;
      if (kind === 'timeout') options.timeout = 5 + Math.floor(rand() * 30);
      peer.send([M.CALL, request, options, PROCEDURE, [slot.tag, request]]);
      sent++;
      if (kind === 'skip' || kind === 'kill' || kind === 'killnowait') {
        setImmediate(() => {
          if (slot.peer === peer && peer.isOpen && slot.outstanding.has(request)) peer.send([M.CANCEL, request, { mode: kind }]);
        });
      }
      // The chaos: now and then a callee or a caller leaves, and comes back.
      const c = rand();
      if (c < 1 / 350) bounceCallee();
      else if (c < 1 / 350 + 1 / 450) bounceCaller();
    }

    function pump(slot: CallerSlot): void {
      while (slot.peer?.isOpen && slot.outstanding.size < WINDOW && sent < TOTAL) send(slot);
    }

    async function startCaller(slot: CallerSlot): Promise<void> {
      slot.tag = `c${generation++}`;
      slot.outstanding = new Map();
      const peer = await RawPeer.connect(t.wsUrl, FULL_ROLES);
      peer.listener = (m) => onCallerMessage(slot, m);
      slot.peer = peer;
      pump(slot);
    }

    function bounceCaller(): void {
      const live = callers.filter((c) => c.peer?.isOpen);
      if (live.length === 0) return;
      const slot = pick(live);
      const peer = slot.peer!;
      // From now on the slot sends nothing more (no CALL after GOODBYE); answers still count.
      slot.peer = undefined;
      stats.callerLeaves++;
      const graceful = rand() < 0.5;
      const back = (async () => {
        // Answers that arrive before the GOODBYE reply still count; what is open after it is abandoned.
        if (graceful) await peer.goodbye();
        else await peer.kill();
        for (const rec of slot.outstanding.values()) rec.abandoned = true;
        await startCaller(slot);
      })().finally(() => {
        reconnecting.delete(back);
        checkDone();
      });
      reconnecting.add(back);
    }

    const started = performance.now();
    await Promise.all(callees.map((_, i) => startCallee(i)));
    for (let i = 0; i < CALLERS; i++) callers.push({ peer: undefined, tag: '', outstanding: new Map() });
    await Promise.all(callers.map((slot) => startCaller(slot)));
    await Promise.race([
      finished,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`chaos run stalled: ${sent} sent, outstanding ${JSON.stringify(callers.map((c) => [c.tag, c.peer?.isOpen, [...c.outstanding.values()].map((r) => r.kind + r.tag)]))}; dealer ${JSON.stringify(pendingState(t))} reconnecting ${reconnecting.size} callees ${callees.map((p) => p?.isOpen)}`)), 30_000).unref()),
    ]);
    const elapsed = performance.now() - started;

    // ---- every call: exactly one final answer, unless its caller left first ----
    assert.equal(records.length, TOTAL);
    assert.deepEqual(violations, []);
    const unanswered = records.filter((r) => r.finals === 0 && !r.abandoned);
    const twice = records.filter((r) => r.finals > 1);
    const lateProgress = records.filter((r) => r.progressAfterFinal > 0);
    assert.deepEqual(unanswered.map((r) => r.tag), [], 'every call of a connected caller is answered');
    assert.deepEqual(twice.map((r) => `${r.tag} ${r.finals}`), [], 'no call is answered twice');
    assert.deepEqual(lateProgress.map((r) => r.tag), [], 'no progressive result after the final one');
    const outcomes = new Map<string, number>();
    for (const r of records) outcomes.set(r.abandoned && r.finals === 0 ? 'abandoned' : r.outcome, (outcomes.get(r.abandoned && r.finals === 0 ? 'abandoned' : r.outcome) ?? 0) + 1);
    // The mix really happened: every kind of ending occurred.
    for (const o of ['result', 'com.chaos.error.app', 'wamp.error.canceled', 'wamp.error.timeout']) {
      assert.ok((outcomes.get(o) ?? 0) > 0, `some calls end with ${o}: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    }
    assert.ok(stats.calleeLeaves > 5 && stats.callerLeaves > 5, JSON.stringify(stats));
    assert.ok(records.filter((r) => r.kind === 'progress' && r.outcome === 'result').every((r) => r.progress > 0));

    // ---- and nothing is left behind in the dealer ----
    await Promise.all([...callers.map((c) => c.peer?.goodbye()), ...callees.map((p) => p?.goodbye())]);
    await eventually(() => t.nodes.every((n) => n.router.connectionCount === 0), 'every connection to close', 5000);
    assert.deepEqual(pendingState(t), IDLE);
    // Tables are kept per live session, not per call: none may outlive its session.
    for (const n of t.nodes) assert.equal(n.router.realm('realm1')!.dealer.sessionTables, 0);
    await eventually(() => t.nodes.every((n) => n.router.realm('realm1')!.dealer.registrationCount === 0), 'every registration to go', 5000);
    console.log(`# chaos seed ${SEED}: ${TOTAL} calls in ${elapsed.toFixed(0)} ms; ${JSON.stringify(stats)}; ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});
