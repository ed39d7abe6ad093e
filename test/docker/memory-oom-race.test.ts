// Docker 20.10 can take an OOM-killed container's exit before containerd's OOM notice: the
// container then reads exit 137 with OOMKilled false, and its `oom` event comes after its `die`.
// Seen twice in CI on a busy machine (an up's OOM reported as a plain exit; a watched OOM kill
// never reported as one). A real relay in front of the daemon reproduces the race on demand
// (oom-race-relay.ts); berth must still call both an OOM kill.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { newSessionId } from "../../src/janitor/session.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { type EnvironmentEvent, watchEnvironment } from "../../src/lifecycle/watch.js";
import { OomKilledError } from "../../src/memory/errors.js";
import { LABELS } from "../../src/model/labels.js";
import { defineProject } from "../../src/stack/builder.js";
import { up } from "../../src/stack/up.js";
import { type OomRaceRelay, startOomRaceRelay } from "./oom-race-relay.js";
import { sessionResources } from "./stack-fixtures.js";
import { engine, fixtureImage, testLabels, uniqueName } from "./support.js";

const HOG = "echo allocating; exec dd if=/dev/zero of=/dev/null bs=64M count=1";

describe("an OOM kill whose exit the daemon saw before the OOM notice", () => {
  let relay: OomRaceRelay;
  let raced: Engine;

  beforeAll(async () => {
    const endpoint = engine.endpoint;
    if (endpoint.kind !== "unix") throw new Error("these tests relay the daemon's unix socket");
    relay = await startOomRaceRelay(endpoint.socketPath);
    raced = new Engine({ dockerHost: relay.dockerHost });
  });

  afterAll(async () => {
    await relay?.close();
  });

  it("up still fails with OomKilledError, from the daemon's oom event", { timeout: 120_000 }, async () => {
    const sessionId = newSessionId();
    const hidden = relay.stats.flagsHidden;
    const error = await up({
      engine: raced,
      sessionId,
      spec: defineProject({
        services: {
          hog: { image: fixtureImage(), command: ["sh", "-c", HOG], memory: "16m", ports: [8080] },
        },
      }),
    }).then(
      () => new Error("up succeeded but should have failed"),
      (e: Error) => e,
    );
    // The fault was really there: berth's inspect of the dead container came without its flag.
    expect(relay.stats.flagsHidden).toBeGreaterThan(hidden);
    expect(error, error.message).toBeInstanceOf(OomKilledError);
    expect(error.message).toContain("killed by the kernel OOM killer at its 16 MiB limit");
    expect(error.message).toContain("allocating");
    expect(await sessionResources(sessionId)).toEqual([]);
  });

  it("the watcher waits for the late oom event and reports an OOM kill", { timeout: 120_000 }, async () => {
    const project = `berth-test-oomrace-${newSessionId().slice(0, 6)}`;
    const events: EnvironmentEvent[] = [];
    const watcher = watchEnvironment(raced, { project, onEvent: (e) => events.push(e) });
    const delayed = relay.stats.oomEventsDelayed;
    const { id } = await engine.createContainer({
      name: uniqueName("oomrace"),
      Image: fixtureImage(),
      Cmd: ["sh", "-c", `sleep 1; ${HOG}`],
      Labels: { ...testLabels(), [LABELS.project]: project, [LABELS.service]: "hog" },
      HostConfig: { Memory: 16 * 1024 ** 2, MemorySwap: 16 * 1024 ** 2 },
    });
    try {
      // Watching before the start: the stream is open once the daemon answered a later call.
      await raced.ping();
      await engine.startContainer(id);
      const deadline = Date.now() + 30_000;
      while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await watcher.stop();
      await safeRemove(engine, id, { graceSeconds: 2 });
    }
    expect(relay.stats.oomEventsDelayed).toBeGreaterThan(delayed);
    expect(events, JSON.stringify(events)).toHaveLength(1);
    expect(events[0]).toMatchObject({
      service: "hog",
      kind: "oom-killed",
      exitCode: 137,
      message: "service `hog` was killed by the kernel OOM killer at its 16 MiB limit",
    });
  });
});
