import { describe, expect, it } from "vitest";
import { AbortedError } from "../../src/engine/errors.js";
import { guardedDispatch, RETRY } from "../../src/guard/dispatch.js";
import { createLimiter } from "../../src/guard/limiter.js";

const retry = { maxAttempts: 3, deadlineMs: 10_000, baseDelayMs: 1, maxDelayMs: 1 };

describe("guardedDispatch", () => {
  it("takes a free read slot without waiting and gives it back after each attempt", async () => {
    const limiter = createLimiter({ readConcurrency: 1 });
    const inFlight: number[] = [];
    const answer = await guardedDispatch(
      { limiter, retry, random: () => 0 },
      { class: "read", operation: "system.ping" },
      async ({ number, permit }) => {
        inFlight.push(limiter.snapshot().reads.inFlight);
        permit.release({ latencyMs: 1, outcome: "ok" });
        return number < 2 ? RETRY : "done";
      },
    );
    expect(answer).toBe("done");
    expect(inFlight).toEqual([1, 1]);
    expect(limiter.snapshot().reads.inFlight).toBe(0);
  });

  it("refuses a request whose signal is already aborted, though a slot is free", async () => {
    const limiter = createLimiter({});
    let attempts = 0;
    await expect(
      guardedDispatch(
        { limiter, retry },
        { class: "read", operation: "system.ping", signal: AbortSignal.abort() },
        async () => {
          attempts++;
          return "done";
        },
      ),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(attempts).toBe(0);
    expect(limiter.snapshot().reads.inFlight).toBe(0);
  });
});
