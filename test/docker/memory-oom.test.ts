// Memory against the real daemon: limits and swap applied exactly and verified, a container that
// outgrows its limit is OOM-killed and diagnosed as such, and the watcher reports it at once.

import { afterAll, describe, expect, it } from "vitest";
import type { ContainerCreateSpec } from "../../src/engine/types.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { type EnvironmentEvent, watchEnvironment } from "../../src/lifecycle/watch.js";
import { formatEnvironmentEvent, formatEventSummary } from "../../src/lifecycle/watch-report.js";
import { diagnoseExit, formatDiagnosis } from "../../src/memory/diagnose.js";
import { MemoryMismatchError, OomKilledError } from "../../src/memory/errors.js";
import { memoryHostConfig, verifyAppliedMemory } from "../../src/memory/limits.js";
import { parseLimitProfile } from "../../src/memory/profiles.js";
import type { ServiceMemory, ServiceSpec } from "../../src/model/compose.js";
import { engine, fixtureImage, testLabels, trappingCommand, uniqueName } from "./support.js";

const MiB = 1024 ** 2;
const created: string[] = [];

afterAll(async () => {
  await Promise.all(created.map((id) => safeRemove(engine, id, { graceSeconds: 2 })));
});

function service(name: string, memory: ServiceMemory, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    environment: {},
    ports: [],
    expose: [],
    dependsOn: [],
    memory,
    volumes: [],
    networks: [],
    labels: {},
    tmpfs: [],
    profiles: [],
    berth: {},
    location: { file: "test", path: `services.${name}` },
    ...extra,
  };
}

async function create(options: {
  project: string;
  service: string;
  cmd: string[];
  host: Record<string, unknown>;
}): Promise<string> {
  const { id } = await engine.createContainer({
    name: uniqueName(options.service),
    Image: fixtureImage(),
    Cmd: options.cmd,
    Labels: testLabels({ "berth.project": options.project, "berth.service": options.service }),
    // No network: these tests need none, and it keeps them off the shared bridge.
    HostConfig: { NetworkMode: "none", ...options.host },
  } as ContainerCreateSpec);
  created.push(id);
  return id;
}

async function until<T>(probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("memory limits on the real daemon", () => {
  it("applies Memory, MemorySwap = Memory, reservation and CPUs exactly, and verifies them", async () => {
    const project = uniqueName("limits");
    const host = memoryHostConfig(
      service("api", { limitBytes: 32 * MiB, reservationBytes: 16 * MiB }, { cpus: 0.5 }),
    );
    expect(host).toEqual({
      Memory: 32 * MiB,
      MemorySwap: 32 * MiB,
      MemoryReservation: 16 * MiB,
      NanoCpus: 5e8,
    });
    const id = await create({ project, service: "api", cmd: trappingCommand(), host: { ...host } });
    const inspect = await engine.inspectContainer(id);
    expect(inspect.HostConfig.MemorySwap).toBe(32 * MiB);
    expect(() => verifyAppliedMemory("api", host, inspect)).not.toThrow();
  });

  it("keeps an explicit memswap_limit and a profile's default limit", async () => {
    const project = uniqueName("limits");
    const profile = parseLimitProfile({ limits: { "work*": "24m" } }, "profile");
    const host = memoryHostConfig(service("worker", { swapLimitBytes: 48 * MiB }), { profile });
    expect(host).toEqual({ Memory: 24 * MiB, MemorySwap: 48 * MiB });
    const id = await create({ project, service: "worker", cmd: trappingCommand(), host: { ...host } });
    const inspect = await engine.inspectContainer(id);
    expect(() => verifyAppliedMemory("worker", host, inspect)).not.toThrow();
  });

  it("catches the daemon's silent swap doubling and a limit changed behind berth's back", async () => {
    const project = uniqueName("limits");
    const asked = memoryHostConfig(service("api", { limitBytes: 16 * MiB }));
    // Memory alone, as a plain `docker run -m 16m` sends it: the daemon grants as much swap again.
    const id = await create({ project, service: "api", cmd: trappingCommand(), host: { Memory: 16 * MiB } });
    let error: unknown;
    try {
      verifyAppliedMemory("api", asked, await engine.inspectContainer(id));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryMismatchError);
    expect((error as Error).message).toBe(
      "service `api`: the daemon applied MemorySwap 32 MiB (berth asked for 16 MiB)",
    );

    await engine.updateContainer(id, { Memory: 64 * MiB, MemorySwap: 64 * MiB });
    const updated = await engine.inspectContainer(id);
    expect(() => verifyAppliedMemory("api", asked, updated)).toThrow(
      "service `api`: the daemon applied Memory 64 MiB (berth asked for 16 MiB), MemorySwap 64 MiB (berth asked for 16 MiB)",
    );
  });
});

describe("OOM kills", () => {
  it("a container that outgrows its limit is OOM-killed, diagnosed, and reported by the watcher", async () => {
    const project = uniqueName("oom");
    const seen: EnvironmentEvent[] = [];
    const watcher = watchEnvironment(engine, { project, onEvent: (e) => seen.push(e) });
    const host = memoryHostConfig(service("api", { limitBytes: 16 * MiB }));
    const id = await create({
      project,
      service: "api",
      // Doubles a shell variable until the kernel ends it: 16 MiB is reached within a second.
      cmd: ["sh", "-c", "echo allocating; x=a; while true; do x=$x$x; done"],
      host: { ...host },
    });
    verifyAppliedMemory("api", host, await engine.inspectContainer(id));
    await engine.startContainer(id);
    const { StatusCode } = await engine.waitContainer(id, "not-running");
    expect(StatusCode).toBe(137);

    // Docker 20.10 records the flag on the `oom` notice, which may reach it after the exit the
    // wait answered from (CI saw exit 137 with the flag still false): it lands within moments.
    let inspect = await engine.inspectContainer(id);
    for (const deadline = Date.now() + 10_000; !inspect.State.OOMKilled && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
      inspect = await engine.inspectContainer(id);
    }
    expect(inspect.State.OOMKilled).toBe(true);
    const logs = await engine.containerLogs(id);
    const diagnosis = diagnoseExit("api", inspect, logs.stdout + logs.stderr);
    expect(diagnosis.cause).toBe("oom-killed");
    expect(diagnosis.summary).toBe("service `api` was killed by the kernel OOM killer at its 16 MiB limit");
    expect(diagnosis.logsTail).toContain("allocating");
    expect(formatDiagnosis(diagnosis)).toContain("last 1 log lines:\n    allocating");
    const error = new OomKilledError(diagnosis);
    expect(error.code).toBe("BERTH_OOM_KILLED");
    expect(error.limitBytes).toBe(16 * MiB);

    const event = await until(() => seen.find((e) => e.kind === "oom-killed"));
    await watcher.stop();
    expect(event).toMatchObject({
      service: "api",
      project,
      severity: "error",
      exitCode: 137,
      limitBytes: 16 * MiB,
    });
    expect(event.logsTail).toContain("allocating");
    expect(formatEnvironmentEvent(event)).toMatch(
      /^berth: \d\d:\d\d:\d\dZ service `api` was killed by the kernel OOM killer at its 16 MiB limit\n {2}last 1 log lines of /,
    );
    // One kill is one event: the `oom` and `die` of the same kill are merged.
    expect(watcher.events.filter((e) => e.kind.startsWith("oom"))).toHaveLength(1);
    expect(formatEventSummary(watcher.events)).toContain(
      "error    service `api` was killed by the kernel OOM killer",
    );
  });

  it("a process killed inside a container that lives on is reported as such", async () => {
    const project = uniqueName("oom-child");
    const watcher = watchEnvironment(engine, { project });
    const host = memoryHostConfig(service("api", { limitBytes: 16 * MiB }));
    const id = await create({
      project,
      service: "api",
      // The child grows and is the OOM killer's choice; the shell that started it lives on.
      cmd: ["sh", "-c", "sh -c 'x=a; while true; do x=$x$x; done'; echo child ended; exec sleep 300"],
      host: { ...host },
    });
    await engine.startContainer(id);
    const event = await until(() => watcher.events.find((e) => e.kind === "oom"));
    await watcher.stop();
    expect((await engine.inspectContainer(id)).State.Running).toBe(true);
    expect(event).toMatchObject({ service: "api", severity: "warning", limitBytes: 16 * MiB });
    expect(event.message).toBe(
      "a process in service `api` was killed by the kernel OOM killer at its 16 MiB limit; the container still runs",
    );
  });

  it("the watcher tells exits, deliberate stops and unhealthy services apart", async () => {
    const project = uniqueName("watch");
    const watcher = watchEnvironment(engine, { project, completes: ["migrate"] });
    const failing = await create({
      project,
      service: "worker",
      cmd: ["sh", "-c", "echo boom >&2; exit 3"],
      host: {},
    });
    const oneShot = await create({ project, service: "migrate", cmd: ["true"], host: {} });
    const stopped = await create({ project, service: "db", cmd: trappingCommand(), host: {} });
    const { id: sick } = await engine.createContainer({
      name: uniqueName("sick"),
      Image: fixtureImage(),
      Cmd: trappingCommand(),
      Labels: testLabels({ "berth.project": project, "berth.service": "cache" }),
      Healthcheck: { Test: ["CMD-SHELL", "echo probe says no; exit 1"], Interval: 200e6, Retries: 1 },
      HostConfig: { NetworkMode: "none" },
    } as ContainerCreateSpec);
    created.push(sick);
    await Promise.all([failing, oneShot, stopped, sick].map((id) => engine.startContainer(id)));
    await engine.stopContainer(stopped, 5);
    const kinds = await until(() => {
      const byService = Object.fromEntries(watcher.events.map((e) => [e.service, e]));
      return Object.keys(byService).length >= 4 ? byService : undefined;
    });
    await watcher.stop();
    expect(kinds.worker).toMatchObject({ kind: "exited", severity: "error", exitCode: 3 });
    expect(kinds.worker!.message).toBe("service `worker` exited with code 3");
    expect(kinds.worker!.logsTail).toContain("boom");
    expect(kinds.migrate).toMatchObject({ kind: "exited", severity: "info", exitCode: 0 });
    expect(kinds.db).toMatchObject({ kind: "stopped", severity: "info" });
    expect(kinds.cache).toMatchObject({ kind: "unhealthy", severity: "error", probeOutput: "probe says no" });
    expect(kinds.cache!.message).toBe("service `cache` turned unhealthy: last probe exited 1: probe says no");
    const summary = formatEventSummary(watcher.events);
    expect(summary).toMatch(/^berth: 2 service events during the run:/);
    expect(summary).not.toContain("`db`");
  });
});
