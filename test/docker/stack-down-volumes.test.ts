// `down --volumes` by session removes the project's named volumes the session used, also one an
// earlier session created and this one re-used (its session label names the earlier session);
// the rollback of a failed `up` never removes such an older volume. Through the library forms of
// `berth up` (detached) and `berth down --session ID [--volumes]`, which the CLI only wraps.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine, guardOf } from "../../src/guard/guard.js";
import { newSessionId } from "../../src/janitor/session.js";
import { LABELS } from "../../src/model/labels.js";
import { down, downEnvironment } from "../../src/stack/down.js";
import { up } from "../../src/stack/up.js";
import { composeDir, projectResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

function volumeFile(image: string): string {
  // The first run writes a mark into the volume; every run prints what it finds there.
  const script =
    "test -f /data/mark || echo first-run > /data/mark; echo found-$$(cat /data/mark); trap 'exit 0' TERM; sleep 600 & wait";
  return `
services:
  app:
    image: ${image}
    command: ${JSON.stringify(["sh", "-c", script])}
    volumes: ["data:/data"]
    x-berth:
      wait:
        - log: "found-"
volumes:
  data: {}
`;
}

const brokenFile = (image: string) => `
services:
  app:
    image: ${image}
    command: ["sh", "-c", "exit 3"]
    volumes: ["data:/data"]
    # Never ready, so up fails whether or not it sees the exit before it answers (a started
    # service with no readiness check would otherwise count as up, on a slow machine).
    x-berth:
      timeout: 20s
      wait:
        - log: "never-printed"
volumes:
  data: {}
`;

describe("berth down --volumes by session", () => {
  it("removes a named volume re-used from an earlier session; a failed up's rollback keeps it", {
    timeout: 300_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-vol-${newSessionId().slice(0, 6)}`;
    const volume = `${project}_data`;
    try {
      dir.file("compose.yaml", volumeFile(fixtureImage()));
      dir.file("broken.yaml", brokenFile(fixtureImage()));

      // Run 1 creates the volume; its down (no volumes) keeps it.
      const first = await up({ files: [join(dir.dir, "compose.yaml")], project, detach: true });
      expect(await first.logs("app")).toContain("found-first-run");
      const firstDown = await down({ engine, session: first.session });
      expect(firstDown.keptVolumes).toEqual([volume]);
      expect((await engine.inspectVolume(volume)).Labels?.[LABELS.session]).toBe(first.session);

      // A failed up of the same project re-uses the volume; its rollback removes only its own.
      const failed = await up({ files: [join(dir.dir, "broken.yaml")], project }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(Error);
      expect((await engine.inspectVolume(volume)).Labels?.[LABELS.session]).toBe(first.session);

      // Run 2 re-uses it (run 1's mark is there); down by its session without volumes keeps it,
      // and with volumes removes it, though its label names run 1's session.
      const second = await up({ files: [join(dir.dir, "compose.yaml")], project, detach: true });
      expect(second.session).not.toBe(first.session);
      expect(await second.logs("app")).toContain("found-first-run");
      const containerOnly = await down({ engine, session: second.session });
      expect(containerOnly.keptVolumes).toEqual([volume]);
      expect(containerOnly.volumes).toEqual([]);

      const third = await up({ files: [join(dir.dir, "compose.yaml")], project, detach: true });
      const full = await down({ engine, session: third.session, volumes: true });
      expect(full.volumes).toEqual([volume]);
      expect(full.keptVolumes).toEqual([]);
      expect(await engine.inspectVolume(volume).catch(() => undefined)).toBeUndefined();
      expect(await projectResources(project)).toEqual([]);
    } finally {
      await downEnvironment(engine, { project, volumes: true }).catch(() => {});
      dir.remove();
    }
  });
});

describe("down of an environment that is not there", () => {
  it("answers from one listing: nothing to remove is already verified", async () => {
    const guarded = createEngine();
    const reads = () => guardOf(guarded)!.metrics.snapshot().calls.read;
    const before = reads();
    const report = await downEnvironment(guarded, {
      project: `berth-test-empty-${newSessionId().slice(0, 8)}`,
    });
    expect(report).toMatchObject({ containers: [], networks: [], volumes: [], keptVolumes: [] });
    // Containers, networks and volumes of the project, listed once.
    expect(reads() - before).toBe(3);
  });
});
