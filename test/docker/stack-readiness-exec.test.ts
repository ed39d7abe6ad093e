// Readiness before Docker's healthcheck schedule (Docker 20.10, no start_interval): berth runs the
// service's own test with exec on a bounded back-off, counts the execs in the guard's metrics,
// and leaves the verdict to Docker when its test fails.
import { afterAll, describe, expect, it, vi } from "vitest";
import { createEngine, guardOf } from "../../src/guard/guard.js";
import { newSessionId } from "../../src/janitor/session.js";
import { UnhealthyError } from "../../src/lifecycle/service-errors.js";
import { HEALTH_EXEC_CAP, healthExecDelays } from "../../src/lifecycle/wait/health-exec.js";
import { defineProject } from "../../src/stack/builder.js";
import { up } from "../../src/stack/up.js";
import { HTTP_HEALTHCHECK, httpdCommand, sessionResources } from "./stack-fixtures.js";
import { fixtureImage, engine as plainEngine } from "./support.js";

const HOUR_MS = 3_600_000;
const engine = createEngine();
const execs = () => guardOf(engine)!.metrics.snapshot().readinessExecs;

afterAll(() => guardOf(engine)?.log.close());

describe("readiness by the service's own healthcheck, run by berth with exec", () => {
  it("a service is ready long before its interval: up completes while Docker has not probed yet", {
    timeout: 120_000,
  }, async () => {
    const image = fixtureImage();
    const before = execs();
    // The daemon's API version (for start_interval) and its kind (Podman rewrites healthchecks)
    // come from one `/version`; the slower `/info` is not asked without memory limits.
    const versionCalls = vi.spyOn(engine, "version");
    const infoCalls = vi.spyOn(engine, "info");
    const env = await up({
      engine,
      // Without berth's execs this would wait for Docker's first probe, an hour away.
      serviceTimeoutMs: 60_000,
      spec: defineProject({
        services: {
          db: {
            image,
            command: httpdCommand("db"),
            // Docker's first probe would come in an hour; only berth's execs can see it ready.
            healthcheck: { test: HTTP_HEALTHCHECK, intervalMs: HOUR_MS, retries: 3 },
          },
          api: { image, command: httpdCommand("api"), dependsOn: { db: "service_healthy" } },
        },
      }),
    });
    try {
      const db = env.services.find((s) => s.name === "db")!;
      const info = await plainEngine.inspectContainer(db.containerId);
      const health = (info.State as { Health?: { Status: string; Log: unknown[] | null } }).Health;
      expect(health?.Status).toBe("starting");
      expect(health?.Log ?? []).toEqual([]);
      expect(db.readinessExecs).toBeGreaterThanOrEqual(1);
      expect(db.readinessExecs).toBeLessThanOrEqual(HEALTH_EXEC_CAP);
      expect(execs() - before).toBe(db.readinessExecs);
      expect(env.services.find((s) => s.name === "api")?.readinessExecs).toBeUndefined();
      expect(versionCalls).toHaveBeenCalledTimes(1);
      expect(infoCalls).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
      await env.down();
    }
  });

  it("a failing healthcheck still fails at Docker's retries, and the execs stay within the back-off", {
    timeout: 120_000,
  }, async () => {
    const sessionId = newSessionId();
    const before = execs();
    const error = await up({
      engine,
      sessionId,
      spec: defineProject({
        services: {
          db: {
            image: fixtureImage(),
            command: httpdCommand("db"),
            healthcheck: { test: ["CMD", "sh", "-c", "echo not yet; exit 1"], intervalMs: 1_000, retries: 2 },
          },
        },
      }),
    }).then(
      () => new Error("up succeeded but should have failed"),
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(UnhealthyError);
    expect((error as UnhealthyError).diagnosis?.health).toBe("unhealthy");
    expect((error as UnhealthyError).diagnosis?.lastProbe).toContain("not yet");
    const ran = execs() - before;
    expect(ran).toBeGreaterThanOrEqual(1);
    // 0, 50, 100, 200, 400, 800 ms: past that, Docker's own 1 s interval is as soon.
    expect(ran).toBeLessThanOrEqual(healthExecDelays(1_000).length);
    expect(await sessionResources(sessionId)).toEqual([]);
  });
});

describe("readiness by a published port", () => {
  it("waits for the listener inside the container, not for the userland proxy's accept", {
    timeout: 120_000,
  }, async () => {
    const env = await up({
      engine,
      spec: defineProject({
        services: {
          // Docker's proxy accepts on the host port at once; httpd listens only 2 s later.
          late: { image: fixtureImage(), command: httpdCommand("late", "sleep 2; "), ports: [8080] },
        },
      }),
    });
    try {
      const endpoint = env.services.find((s) => s.name === "late")?.endpoints[0];
      const response = await fetch(`http://${endpoint?.host}:${endpoint?.port}/`);
      expect(await response.text()).toBe("late\n");
    } finally {
      await env.down();
    }
  });
});
