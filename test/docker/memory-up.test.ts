// OOM kills through `up`: a service that outgrows its limit while starting fails `up` with an
// OomKilledError (and nothing is left), and one that is killed later is reported by the watcher.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type EnvironmentEvent, watchEnvironment } from "../../src/lifecycle/watch.js";
import { OomKilledError } from "../../src/memory/errors.js";
import { up } from "../../src/stack/up.js";
import { engine, fixtureImage, uniqueName } from "./support.js";

const dir = mkdtempSync(join(tmpdir(), "berth-memory-up-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function composeFile(name: string, command: string, healthcheck = false): string {
  const file = join(dir, `${name}.yml`);
  // `$$` is a literal `$` after Compose interpolation.
  writeFileSync(
    file,
    [
      "services:",
      "  api:",
      `    image: ${fixtureImage()}`,
      `    command: ["sh", "-c", ${JSON.stringify(command)}]`,
      "    mem_limit: 16m",
      "    stop_grace_period: 1s",
      // A check that cannot pass keeps `up` waiting, so the kill happens while it starts.
      ...(healthcheck
        ? [
            "    healthcheck:",
            '      test: ["CMD", "test", "-e", "/never"]',
            "      interval: 1s",
            "      retries: 60",
          ]
        : []),
      "",
    ].join("\n"),
  );
  return file;
}

const GROW = "x=a; while true; do x=$$x$$x; done";

describe("OOM kills through up", () => {
  it("up fails with OomKilledError naming the service and its limit, and leaves nothing", async () => {
    const project = uniqueName("oom-up");
    const file = composeFile("starting", `echo allocating; ${GROW}`, true);
    let error: unknown;
    try {
      const env = await up({ files: [file], project, engine, serviceTimeoutMs: 60_000 });
      await env.down();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OomKilledError);
    const oom = error as OomKilledError;
    expect(oom.code).toBe("BERTH_OOM_KILLED");
    expect(oom.message).toMatch(/^service `api` was killed by the kernel OOM killer at its 16 MiB limit\n/);
    expect(oom.logsTail).toContain("allocating");
    expect(
      await engine.listContainers({ all: true, filters: { label: [`berth.project=${project}`] } }),
    ).toEqual([]);
  });

  it("a service killed after up is reported by the watcher with its limit", async () => {
    const project = uniqueName("oom-later");
    const file = composeFile(
      "later",
      `echo ready; while [ ! -e /go ]; do sleep 0.1; done; echo growing; ${GROW}`,
    );
    const env = await up({ files: [file], project, engine, serviceTimeoutMs: 60_000 });
    const seen: EnvironmentEvent[] = [];
    const watcher = watchEnvironment(engine, { project: env.project, onEvent: (e) => seen.push(e) });
    try {
      // The fixture image is FROM scratch: there is no /tmp, but / is writable.
      expect((await env.exec("api", ["touch", "/go"])).exitCode).toBe(0);
      const deadline = Date.now() + 60_000;
      while (!seen.some((e) => e.kind === "oom-killed") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await watcher.stop();
      await env.down();
    }
    const event = seen.find((e) => e.kind === "oom-killed");
    expect(seen.map((e) => e.message)).toContain(
      "service `api` was killed by the kernel OOM killer at its 16 MiB limit",
    );
    expect(event).toMatchObject({
      service: "api",
      project: env.project,
      limitBytes: 16 * 1024 ** 2,
      exitCode: 137,
    });
    expect(event!.message).toBe("service `api` was killed by the kernel OOM killer at its 16 MiB limit");
    expect(event!.logsTail).toEqual(["ready", "growing"]);
  });
});
