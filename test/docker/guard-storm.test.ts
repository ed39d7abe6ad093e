// A storm through the guarded engine: 48 create-start-safeRemove lifecycles of a SIGTERM-trapping
// fixture from 32 concurrent callers. Every lifecycle must succeed, and the adaptive limiter must
// never let more lifecycle calls reach the daemon than its limit. (When the limit falls, calls
// already in flight finish: in flight may exceed the new limit, never the highest one granted.)
import { setMaxListeners } from "node:events";
import { afterAll, describe, expect, it } from "vitest";
import { createEngine, guardOf } from "../../src/guard/guard.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import {
  engine as direct,
  fixtureImage,
  testLabels,
  trappingCommand,
  uniqueName,
  waitForLine,
} from "./support.js";

const LIFECYCLES = 48;
const CALLERS = 32;
const prefix = uniqueName("storm");
const stop = new AbortController();
// Every caller waits on this one signal (each queued call listens until it is granted): up to 32
// listeners at once is the test's design, not a leak, so Node's warning at 11 is lifted for it.
setMaxListeners(CALLERS * 2, stop.signal);

// Should the test time out on a crowded daemon, stop the callers and remove what they left.
afterAll(async () => {
  stop.abort();
  const left = await direct.listContainers({ all: true, filters: { name: [prefix] } });
  await Promise.all(left.map((c) => safeRemove(direct, c.Id, { graceSeconds: 5 })));
});

describe("a storm through the guarded engine", () => {
  // ~15 s on a quiet 2-core machine; the timeout leaves room for a daemon shared with other suites.
  it(`runs ${LIFECYCLES} lifecycles from ${CALLERS} callers with zero failures, within the limit`, {
    timeout: 180_000,
  }, async () => {
    const engine = createEngine({ limiter: "adaptive" });
    const guard = guardOf(engine)!;
    let maxInFlight = 0;
    engine.observe(() => {
      maxInFlight = Math.max(maxInFlight, guard.limiter.snapshot().inFlight);
    });
    const failures: unknown[] = [];
    const outcomes: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (next < LIFECYCLES && !stop.signal.aborted) {
          const name = `${prefix}-${next++}`;
          try {
            const { id } = await engine.createContainer(
              {
                name,
                Image: fixtureImage(),
                Cmd: trappingCommand(),
                Labels: testLabels(),
                StopTimeout: 10,
              },
              stop.signal,
            );
            await engine.startContainer(id, stop.signal);
            await waitForLine(id);
            outcomes.push((await safeRemove(engine, id, { signal: stop.signal })).outcome);
          } catch (error) {
            failures.push(error);
            await safeRemove(direct, name).catch(() => undefined);
          }
        }
      }),
    );

    process.stdout.write(`${guard.metrics.render()}\n`);
    expect(failures).toEqual([]);
    expect(outcomes).toEqual(Array(LIFECYCLES).fill("exited"));
    const metrics = guard.metrics.snapshot();
    expect(metrics.failures).toBe(0);
    expect(metrics.calls.lifecycle).toBeGreaterThanOrEqual(LIFECYCLES * 4);
    expect(metrics.latency.lifecycle.count).toBeGreaterThanOrEqual(LIFECYCLES * 4);
    expect(metrics.limiter).toMatchObject({ mode: "adaptive", inFlight: 0, queued: 0 });
    expect(metrics.limiter.highestLimit).toBeLessThan(CALLERS);
    expect(maxInFlight).toBeLessThanOrEqual(metrics.limiter.highestLimit);
    expect(await direct.listContainers({ all: true, filters: { name: [prefix] } })).toEqual([]);
  });
});
