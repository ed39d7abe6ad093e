// pollUntil: probes until true, sleeping with backoff; a wake cuts a delay short; an abort rejects
// with the signal's reason.
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { pollUntil } from "../../src/lifecycle/backoff.js";

const LONG = { initialMs: 60_000, maxMs: 60_000 };

describe("pollUntil", () => {
  it("stops at the first true answer", async () => {
    let calls = 0;
    await pollUntil(async () => ++calls === 3, {
      backoff: { initialMs: 1, maxMs: 1 },
      signal: new AbortController().signal,
    });
    expect(calls).toBe(3);
  });

  // With a delay of a minute, only the wake can end these within the test's timeout.
  it("probes again as soon as it is woken", { timeout: 5_000 }, async () => {
    let calls = 0;
    await pollUntil(async () => ++calls === 2, {
      backoff: LONG,
      signal: new AbortController().signal,
      wake: (wakeUp) => {
        const timer = setTimeout(wakeUp, 10);
        return () => clearTimeout(timer);
      },
    });
    expect(calls).toBe(2);
  });

  it("rejects with the signal's reason when it aborts during a delay", { timeout: 5_000 }, async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 10);
    await expect(pollUntil(async () => false, { backoff: LONG, signal: controller.signal })).rejects.toBe(
      reason,
    );
  });

  it("lets a thrown probe error end the poll", async () => {
    const error = new Error("fatal");
    await expect(
      pollUntil(
        async () => {
          throw error;
        },
        { backoff: LONG, signal: new AbortController().signal },
      ),
    ).rejects.toBe(error);
  });

  it("leaves no listener on the caller's signal, however many pauses it took", async () => {
    const signal = new AbortController().signal;
    let calls = 0;
    await pollUntil(async () => ++calls === 30, { backoff: { initialMs: 1, maxMs: 1 }, signal });
    expect(calls).toBe(30);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });
});
