// A detached session (`berth up`) outlives its owner: the watchdog guards the up, is released
// when it succeeds, and exits with its owner; plain gc keeps the environment, gc --all removes it.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gc } from "../../src/janitor/gc.js";
import { LABELS } from "../../src/model/labels.js";
import { sessionResources, startOwner, waitForProcessExit } from "./janitor-support.js";
import { engine, fixtureImage } from "./support.js";

const logDir = mkdtempSync(join(tmpdir(), "berth-reaper-detach-"));
const ownerEnv = { BERTH_REAPER_LOG: join(logDir, "reaper.log") };
const sessionId = () => `rd${randomUUID().replace(/-/g, "").slice(0, 10)}`;

afterAll(() => rmSync(logDir, { recursive: true, force: true }));

describe("detached sessions", { timeout: 300_000 }, () => {
  it("a detached session outlives its owner: the watchdog lets it be, gc keeps it until --all", async () => {
    const session = sessionId();
    const owner = startOwner([fixtureImage(), session, "detach"], ownerEnv);
    owner.go();
    const guarded = await owner.waitFor((e) => e.event === "guarded");
    await owner.waitFor((e) => e.event === "detached");
    expect((await owner.exited).code).toBe(0);
    expect(await waitForProcessExit(guarded.watchdog!, 5_000)).toBe(true);

    const left = await sessionResources(engine, session);
    expect(left.filter((r) => r.kind === "container")).toHaveLength(3);
    expect(left.every((r) => r.labels[LABELS.detached] === "true")).toBe(true);

    const label = { key: LABELS.session, value: session };
    const kept = await gc(engine, { label });
    expect(kept.sessions.map((s) => s.verdict)).toEqual([{ remove: false, reason: "detached" }]);
    expect(await sessionResources(engine, session)).toHaveLength(left.length);

    const removed = await gc(engine, { label, all: true, maxGraceSeconds: 5 });
    expect(removed.failures).toEqual([]);
    expect(removed.counts).toEqual({ containers: 3, networks: 1, volumes: 0 });
    expect(await sessionResources(engine, session)).toEqual([]);
  });
});
