import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AbortedError, ConfigError } from "../../src/engine/errors.js";
import { admissionRank, createLimiter, type LimitChangeEvent, type Permit } from "../../src/guard/limiter.js";

const now = () => Date.now();

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `callers` loops that each take a lifecycle slot, hold it `holdMs`, and record when they got it. */
async function drive(
  limiter: ReturnType<typeof createLimiter>,
  callers: number,
  calls: number,
  holdMs: number,
) {
  const grants: number[] = [];
  let maxInFlight = 0;
  let issued = 0;
  const loops = Array.from({ length: callers }, async () => {
    while (issued < calls) {
      issued += 1;
      const permit = await limiter.acquire("lifecycle");
      grants.push(Date.now());
      maxInFlight = Math.max(maxInFlight, limiter.snapshot().inFlight);
      await new Promise((r) => setTimeout(r, holdMs));
      permit.release({ latencyMs: holdMs, outcome: "ok" });
    }
  });
  const all = Promise.all(loops);
  await vi.runAllTimersAsync();
  await all;
  return { grants, maxInFlight };
}

describe("fixed mode", () => {
  it("keeps the old behaviour expressible: at least 500 ms between starts, at most 3 at once", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 3, minIntervalMs: 500, now });
    const { grants, maxInFlight } = await drive(limiter, 8, 12, 2_000);
    expect(grants).toHaveLength(12);
    for (let i = 1; i < grants.length; i++) expect(grants[i]! - grants[i - 1]!).toBeGreaterThanOrEqual(500);
    expect(maxInFlight).toBe(3);
    // Three in flight for 2 s each: the fourth waits for a release, not just the interval.
    expect(grants.slice(0, 4)).toEqual([0, 500, 1_000, 2_000]);
  });

  it("paces short calls by the interval alone: about 2 starts a second", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 3, minIntervalMs: 500, now });
    const { grants } = await drive(limiter, 8, 10, 50);
    expect(grants).toEqual([0, 500, 1_000, 1_500, 2_000, 2_500, 3_000, 3_500, 4_000, 4_500]);
  });

  it("with no interval, is a plain concurrency limit", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 2, minIntervalMs: 0, now });
    const { grants, maxInFlight } = await drive(limiter, 5, 6, 100);
    expect(grants).toEqual([0, 0, 100, 100, 200, 200]);
    expect(maxInFlight).toBe(2);
  });

  it("reports its settings in the snapshot", () => {
    const limiter = createLimiter({ mode: "fixed", now });
    expect(limiter.snapshot()).toMatchObject({
      mode: "fixed",
      limit: 3,
      minIntervalMs: 500,
      inFlight: 0,
      queued: 0,
    });
  });
});

describe("admission order", () => {
  it("ranks calls that end work before calls that continue it, and those before creates", () => {
    expect(admissionRank("container.remove")).toBe(0);
    expect(admissionRank("container.stop")).toBe(0);
    expect(admissionRank("network.remove")).toBe(0);
    expect(admissionRank("container.start")).toBe(1);
    expect(admissionRank(undefined)).toBe(1);
    expect(admissionRank("container.create")).toBe(2);
    expect(admissionRank("network.create")).toBe(2);
  });

  it("grants queued teardowns first, then starts, then creates, FIFO within each", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 1, minIntervalMs: 0, now });
    const holder = await limiter.acquire("lifecycle", undefined, "container.create");
    const order: string[] = [];
    const queued = [
      "container.create#1",
      "container.start#1",
      "container.remove#1",
      "container.create#2",
      "container.stop#2",
      "container.start#2",
    ].map((tagged) =>
      limiter.acquire("lifecycle", undefined, tagged.split("#")[0]).then((permit) => {
        order.push(tagged);
        permit.release({ latencyMs: 1, outcome: "ok" });
      }),
    );
    holder.release({ latencyMs: 1, outcome: "ok" });
    await vi.runAllTimersAsync();
    await Promise.all(queued);
    expect(order).toEqual([
      "container.remove#1",
      "container.stop#2",
      "container.start#1",
      "container.start#2",
      "container.create#1",
      "container.create#2",
    ]);
  });
});

describe("wake-ups", () => {
  it("clears a pacing wake-up once nobody waits for it, so an idle process can exit", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 3, minIntervalMs: 500, now });
    const first = await limiter.acquire("lifecycle", undefined, "container.stop");
    const abort = new AbortController();
    const second = limiter.acquire("lifecycle", abort.signal, "container.remove");
    expect(vi.getTimerCount()).toBe(1); // paced: woken at 500 ms
    abort.abort();
    await expect(second).rejects.toBeInstanceOf(AbortedError);
    expect(vi.getTimerCount()).toBe(0);
    first.release({ latencyMs: 1, outcome: "ok" });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("off mode", () => {
  it("grants everything at once and still counts what is in flight", async () => {
    const limiter = createLimiter({ mode: "off", now });
    const permits = await Promise.all(Array.from({ length: 50 }, () => limiter.acquire("lifecycle")));
    expect(limiter.snapshot()).toMatchObject({ mode: "off", limit: Number.POSITIVE_INFINITY, inFlight: 50 });
    for (const p of permits) p.release({ latencyMs: 1, outcome: "ok" });
    expect(limiter.snapshot().inFlight).toBe(0);
  });
});

describe("operation classes", () => {
  it("gives reads their own budget, so they neither block nor wait for lifecycle calls", async () => {
    const limiter = createLimiter({
      mode: "fixed",
      maxConcurrent: 1,
      minIntervalMs: 0,
      readConcurrency: 2,
      now,
    });
    const held = await limiter.acquire("lifecycle");
    const r1 = await limiter.acquire("read");
    const r2 = await limiter.acquire("read");
    let third: Permit | undefined;
    void limiter.acquire("read").then((p) => {
      third = p;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(third).toBeUndefined();
    expect(limiter.snapshot().reads).toEqual({ limit: 2, inFlight: 2, queued: 1 });
    r1.release({ latencyMs: 1, outcome: "ok" });
    await vi.advanceTimersByTimeAsync(0);
    expect(third).toBeDefined();
    held.release({ latencyMs: 1, outcome: "ok" });
    r2.release({ latencyMs: 1, outcome: "ok" });
  });

  it("never makes a stream wait, even when every lifecycle slot is taken", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 1, minIntervalMs: 0, now });
    const held = await limiter.acquire("lifecycle");
    const streams = await Promise.all([limiter.acquire("stream"), limiter.acquire("stream")]);
    expect(limiter.snapshot()).toMatchObject({ inFlight: 1, streams: 2 });
    for (const s of streams) s.release({ latencyMs: 60_000, outcome: "ok" });
    expect(limiter.snapshot().streams).toBe(0);
    held.release({ latencyMs: 1, outcome: "ok" });
  });

  it("never lets a stream take a lifecycle slot", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 1, minIntervalMs: 0, now });
    await limiter.acquire("stream");
    const lifecycle = await limiter.acquire("lifecycle");
    expect(lifecycle.queuedMs).toBe(0);
  });
});

describe("tryAcquire: a slot now or none", () => {
  it("grants a free read slot at once, counted like acquire's, and none while the reads are full or queued", async () => {
    // The adaptive default: reads have their own fixed budget in every mode.
    const limiter = createLimiter({ readConcurrency: 2, now });
    const r1 = limiter.tryAcquire("read", "system.ping");
    const r2 = limiter.tryAcquire("read");
    expect(r1?.queuedMs).toBe(0);
    expect(r2).toBeDefined();
    expect(limiter.snapshot().reads).toEqual({ limit: 2, inFlight: 2, queued: 0 });
    expect(limiter.tryAcquire("read")).toBeUndefined();
    let queued: Permit | undefined;
    void limiter.acquire("read").then((p) => {
      queued = p;
    });
    r1!.release({ latencyMs: 1, outcome: "ok" });
    // The freed slot goes to the caller that waited, not to a later tryAcquire.
    expect(limiter.tryAcquire("read")).toBeUndefined();
    await vi.advanceTimersByTimeAsync(0);
    expect(queued).toBeDefined();
    r2!.release({ latencyMs: 1, outcome: "ok" });
    queued!.release({ latencyMs: 1, outcome: "ok" });
    expect(limiter.snapshot().reads.inFlight).toBe(0);
  });

  it("leaves lifecycle calls to acquire (admission and pacing), and never makes a stream wait", () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 3, minIntervalMs: 0, now });
    expect(limiter.tryAcquire("lifecycle", "container.create")).toBeUndefined();
    const stream = limiter.tryAcquire("stream");
    expect(limiter.snapshot().streams).toBe(1);
    stream!.release({ latencyMs: 1, outcome: "ok" });
    expect(limiter.snapshot().streams).toBe(0);
  });

  it("grants every read in off mode, like acquire", () => {
    const limiter = createLimiter({ mode: "off", now });
    const permits = Array.from({ length: 50 }, () => limiter.tryAcquire("read"));
    expect(permits.every(Boolean)).toBe(true);
    expect(limiter.snapshot().reads.inFlight).toBe(50);
  });
});

describe("abort and release", () => {
  it("rejects a queued acquire when its signal aborts, and forgets it", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 1, minIntervalMs: 0, now });
    const held = await limiter.acquire("lifecycle");
    const controller = new AbortController();
    const waiting = limiter.acquire("lifecycle", controller.signal);
    expect(limiter.snapshot().queued).toBe(1);
    controller.abort(new Error("test over"));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(limiter.snapshot().queued).toBe(0);
    held.release({ latencyMs: 1, outcome: "ok" });
    expect(limiter.snapshot().inFlight).toBe(0);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const limiter = createLimiter({ now });
    await expect(limiter.acquire("read", AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });

  it("ignores a second release of the same permit", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 2, minIntervalMs: 0, now });
    const a = await limiter.acquire("lifecycle");
    await limiter.acquire("lifecycle");
    a.release({ latencyMs: 1, outcome: "ok" });
    a.release({ latencyMs: 1, outcome: "ok" });
    expect(limiter.snapshot().inFlight).toBe(1);
  });

  it("tells how long a permit was queued", async () => {
    const limiter = createLimiter({ mode: "fixed", maxConcurrent: 1, minIntervalMs: 0, now });
    const held = await limiter.acquire("lifecycle");
    const next = limiter.acquire("lifecycle");
    await vi.advanceTimersByTimeAsync(250);
    held.release({ latencyMs: 250, outcome: "ok" });
    expect((await next).queuedMs).toBe(250);
  });
});

describe("adaptive mode through the limiter", () => {
  it("finds the knee of a server whose latency grows past 4 calls in flight, and announces changes", async () => {
    const limiter = createLimiter({ now });
    const changes: LimitChangeEvent[] = [];
    limiter.onLimitChange((c) => changes.push(c));
    const knee = 4;
    const ops = [
      { name: "container.create", ms: 40 },
      { name: "container.start", ms: 160 },
      { name: "container.stop", ms: 100 },
      { name: "container.remove", ms: 30 },
    ];
    let stop = false;
    let maxInFlight = 0;
    const callers = Array.from({ length: 32 }, async (_, c) => {
      for (let i = c; !stop; i++) {
        const op = ops[i % ops.length]!;
        const permit = await limiter.acquire("lifecycle", undefined, op.name);
        const inFlight = limiter.snapshot().inFlight;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const latency = op.ms * Math.max(1, inFlight / knee);
        await new Promise((r) => setTimeout(r, latency));
        permit.release({ latencyMs: latency, outcome: "ok" });
      }
    });
    await vi.advanceTimersByTimeAsync(20_000);
    const settled = limiter.snapshot();
    stop = true;
    await vi.runAllTimersAsync();
    await Promise.all(callers);
    expect(settled.limit).toBeGreaterThanOrEqual(knee);
    expect(settled.limit).toBeLessThanOrEqual(knee * 2.5);
    expect(settled.queued).toBeGreaterThan(20);
    expect(maxInFlight).toBeLessThanOrEqual(settled.highestLimit);
    expect(changes.length).toBe(settled.limitChanges);
    expect(changes[0]).toMatchObject({ from: 2, reason: "gradient" });
  });

  it("runs an operation's first call alone, so its latency is learned unloaded", async () => {
    const limiter = createLimiter({ initialLimit: 4, now });
    const creates = await Promise.all([limiter.acquire("lifecycle", undefined, "container.create")]);
    // The second create waits: create is still being measured.
    let second: Permit | undefined;
    void limiter.acquire("lifecycle", undefined, "container.create").then((p) => {
      second = p;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(second).toBeUndefined();
    creates[0]!.release({ latencyMs: 10, outcome: "ok", operation: "container.create" });
    await vi.advanceTimersByTimeAsync(0);
    expect(second).toBeDefined();
    // A start, never seen, waits for the create in flight to finish, then runs alone.
    let start: Permit | undefined;
    void limiter.acquire("lifecycle", undefined, "container.start").then((p) => {
      start = p;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(start).toBeUndefined();
    second!.release({ latencyMs: 20, outcome: "ok", operation: "container.create" });
    await vi.advanceTimersByTimeAsync(0);
    expect(start).toBeDefined();
    expect(limiter.snapshot().inFlight).toBe(1);
    start!.release({ latencyMs: 150, outcome: "ok", operation: "container.start" });
  });

  it("probes nothing it was given a baseline for, and hands its baselines on", async () => {
    const first = createLimiter({ initialLimit: 4, now });
    const probe = await first.acquire("lifecycle", undefined, "container.start");
    probe.release({ latencyMs: 150, outcome: "ok", operation: "container.start" });
    expect(first.baselines()).toEqual({ "container.start": 150 });
    // A later process starts from what the first learned: two starts at once, nothing waits.
    const next = createLimiter({ initialLimit: 4, now, baselines: first.baselines() });
    const granted: Permit[] = [];
    for (let i = 0; i < 2; i++) {
      void next.acquire("lifecycle", undefined, "container.start").then((p) => granted.push(p));
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(2);
    // An operation it was not given is still probed: it waits for the starts in flight.
    let stop: Permit | undefined;
    void next.acquire("lifecycle", undefined, "container.stop").then((p) => {
      stop = p;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(stop).toBeUndefined();
    for (const p of granted) p.release({ latencyMs: 150, outcome: "ok", operation: "container.start" });
    await vi.advanceTimersByTimeAsync(0);
    expect(stop).toBeDefined();
    stop!.release({ latencyMs: 20, outcome: "ok", operation: "container.stop" });
    expect(Object.keys(next.baselines()).sort()).toEqual(["container.start", "container.stop"]);
    expect(createLimiter({ mode: "fixed", baselines: { "container.start": 1 } }).baselines()).toEqual({});
  });

  it("never makes a lone caller wait, however the clock moves between calls", async () => {
    let t = 0;
    const limiter = createLimiter({ now: () => (t += 7) });
    const ops = ["container.create", "container.start", "container.stop", "container.remove"];
    for (let i = 0; i < 12; i++) {
      const op = ops[i % ops.length]!;
      let permit: Permit | undefined;
      void limiter.acquire("lifecycle", undefined, op).then((p) => {
        permit = p;
      });
      await vi.advanceTimersByTimeAsync(0);
      expect(permit, `call ${i} (${op})`).toBeDefined();
      permit!.release({ latencyMs: 5, outcome: "ok", operation: op });
    }
  });

  it("lets the queue go on when a probe outlasts probeTimeoutMs", async () => {
    const limiter = createLimiter({ initialLimit: 4, probeTimeoutMs: 1_000, now });
    const hanging = await limiter.acquire("lifecycle", undefined, "container.start");
    let next: Permit | undefined;
    void limiter.acquire("lifecycle", undefined, "container.start").then((p) => {
      next = p;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(next).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(next).toBeDefined();
    hanging.release({ latencyMs: 1_000, outcome: "ok" });
  });

  it("refuses a bad configuration with the option's name and value", () => {
    expect(() => createLimiter({ mode: "fixed", maxConcurrent: 0 })).toThrow(ConfigError);
    expect(() => createLimiter({ mode: "fixed", maxConcurrent: 0 })).toThrow(
      "Expected `maxConcurrent` to be a whole number from 1 up, got `0`",
    );
  });
});
