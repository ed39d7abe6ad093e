import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { ConfigError } from "../../src/engine/errors.js";
import { newSessionId } from "../../src/janitor/session.js";
import { NameConflictError } from "../../src/lifecycle/create-container.js";
import { PortTakenError } from "../../src/lifecycle/host-ports.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import {
  HealthTimeoutError,
  ServiceExitedError,
  UnhealthyError,
} from "../../src/lifecycle/service-errors.js";
import { OomKilledError } from "../../src/memory/errors.js";
import { LABELS } from "../../src/model/labels.js";
import { defineProject } from "../../src/stack/builder.js";
import { UpInterruptedError } from "../../src/stack/errors.js";
import { ImageMissingError } from "../../src/stack/images.js";
import type { StackEvent } from "../../src/stack/progress/events.js";
import { up } from "../../src/stack/up.js";
import { startFaultProxy } from "../../src/validate/fault-proxy.js";
import {
  composeDir,
  HTTP_HEALTHCHECK,
  httpdCommand,
  projectResources,
  sessionResources,
} from "./stack-fixtures.js";
import { engine, fixtureImage, startFixture, testLabels, uniqueName } from "./support.js";

/** Runs `up` expecting it to fail; answers the error and checks the session left nothing. */
async function failingUp(options: Parameters<typeof up>[0]): Promise<Error> {
  const sessionId = newSessionId();
  const error = await up({
    ...options,
    sessionId,
    onProgress: (event) => {
      // A rollback that needed a second pass says why; the CI log keeps it.
      if (event.type === "warning" && event.message.startsWith("Rollback")) console.log(event.message);
      options?.onProgress?.(event);
    },
  }).then(
    () => new Error("up succeeded but should have failed"),
    (e: Error) => e,
  );
  // On a miss, the error says what the rollback met (a "Rollback incomplete: ..." line).
  expect(await sessionResources(sessionId), error.message).toEqual([]);
  return error;
}

describe("berth up rolls back atomically", () => {
  it("on a failing healthcheck: names the service, its last probe and its logs, and leaves nothing", {
    timeout: 240_000,
  }, async () => {
    const image = fixtureImage();
    const spec = defineProject({
      services: {
        db: {
          image,
          command: httpdCommand("db", "echo starting db; echo disk is full >&2; "),
          healthcheck: {
            test: ["CMD", "sh", "-c", "echo probe says no; exit 1"],
            intervalMs: 200,
            retries: 2,
          },
        },
        api: { image, command: httpdCommand("api"), dependsOn: { db: "service_healthy" } },
      },
    });
    const events: StackEvent[] = [];
    const error = await failingUp({ spec, onProgress: (e) => events.push(e) });
    expect(error).toBeInstanceOf(UnhealthyError);
    const e = error as UnhealthyError;
    expect(e.code).toBe("BERTH_UNHEALTHY");
    expect(e.service).toBe("db");
    expect(e.diagnosis?.health).toBe("unhealthy");
    expect(e.diagnosis?.lastProbe).toContain("probe says no");
    expect(e.diagnosis?.logTail).toEqual(expect.arrayContaining(["starting db", "disk is full"]));
    expect(e.message).toContain("Service db is unhealthy");
    expect(e.message).toContain("disk is full");
    // The dependent was never started.
    expect(events.some((x) => x.type === "service" && x.service === "api" && x.phase === "starting")).toBe(
      false,
    );
    expect(events.some((x) => x.type === "rollback" && x.phase === "finished")).toBe(true);
  });

  it("on a service that exits before it is ready, and on a one-shot service exiting non-zero", {
    timeout: 240_000,
  }, async () => {
    const image = fixtureImage();
    const early = await failingUp({
      spec: defineProject({
        services: { web: { image, command: ["sh", "-c", "echo bad config; exit 3"], ports: [8080] } },
      }),
    });
    expect(early).toBeInstanceOf(ServiceExitedError);
    expect((early as ServiceExitedError).diagnosis?.exitCode).toBe(3);
    expect(early.message).toContain("bad config");

    const migration = await failingUp({
      spec: defineProject({
        services: {
          migrate: { image, command: ["sh", "-c", "echo migration 7 failed; exit 1"] },
          api: { image, command: httpdCommand(), dependsOn: { migrate: "service_completed_successfully" } },
        },
      }),
    });
    expect(migration).toBeInstanceOf(ServiceExitedError);
    expect((migration as ServiceExitedError).service).toBe("migrate");
    expect(migration.message).toContain("exited with code 1");
  });

  it("makes a second pass when its first leaves something behind (a 409 injected on the network's removal)", {
    timeout: 240_000,
  }, async () => {
    // A real relay in front of the daemon answers the rollback's first network removal with a
    // 409 itself (the guard does not retry a conflict); everything else reaches the daemon.
    let injected = 0;
    const proxy = await startFaultProxy(engine.endpoint, ({ requestLine }) =>
      /^DELETE \/(v[\d.]+\/)?networks\//.test(requestLine) && !injected++ ? "conflict" : "pass",
    );
    const warnings: string[] = [];
    try {
      const error = await failingUp({
        engine: new Engine({ dockerHost: proxy.dockerHost }),
        spec: defineProject({
          // The port is never served, so up cannot count it ready before it exits, however slow.
          services: {
            web: { image: fixtureImage(), command: ["sh", "-c", "echo bad config; exit 3"], ports: [8080] },
          },
        }),
        onProgress: (event) => {
          if (event.type === "warning") warnings.push(event.message);
        },
      });
      expect(proxy.stats.conflicts).toBe(1);
      expect(error).toBeInstanceOf(ServiceExitedError);
      expect(error.message).not.toContain("Rollback incomplete");
      expect(warnings.join("\n")).toMatch(/Rollback: a second pass, the first left: .*network berth-/s);
      expect(warnings.join("\n")).toContain("conflict injected for DELETE");
    } finally {
      await proxy.close();
    }
  });

  it("reports an OOM kill as such", { timeout: 240_000 }, async () => {
    const error = await failingUp({
      spec: defineProject({
        services: {
          hog: {
            image: fixtureImage(),
            command: ["sh", "-c", "echo allocating; exec dd if=/dev/zero of=/dev/null bs=64M count=1"],
            memory: "16m",
            ports: [8080],
          },
        },
      }),
    });
    expect(error).toBeInstanceOf(OomKilledError);
    expect(error.message).toContain("OOM");
    expect(error.message).toContain("allocating");
  });

  it("on a readiness timeout, with the last probe in the error", { timeout: 240_000 }, async () => {
    const error = await failingUp({
      spec: defineProject({
        services: {
          quiet: {
            image: fixtureImage(),
            command: ["sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait"],
            ports: [8080],
            // Nothing listens on 8080, so it never gets ready; 3 s leaves a busy machine time to probe.
            timeoutMs: 3_000,
          },
        },
      }),
    });
    expect(error).toBeInstanceOf(HealthTimeoutError);
    expect((error as HealthTimeoutError).diagnosis?.lastProbe).toMatch(/port 8080: 127\.0\.0\.1:\d+: /);
    // Seen from inside (the container's sockets, read on this host), not from the userland proxy.
    expect((error as HealthTimeoutError).diagnosis?.lastProbe).toContain(
      "nothing listens on 8080/tcp in the container",
    );
  });

  it("when interrupted through its AbortSignal", { timeout: 240_000 }, async () => {
    const controller = new AbortController();
    const spec = defineProject({
      services: {
        slow: {
          image: fixtureImage(),
          command: ["sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait"],
          healthcheck: { test: ["CMD", "false"], intervalMs: 10_000, startPeriodMs: 60_000 },
        },
      },
    });
    const error = await failingUp({
      spec,
      onProgress: (e) => {
        if (e.type === "service" && e.phase === "waiting") controller.abort();
      },
      signal: controller.signal,
    });
    expect(error).toBeInstanceOf(UpInterruptedError);
  });

  it("refuses a missing image under pull policy never before creating anything", {
    timeout: 240_000,
  }, async () => {
    const error = await failingUp({
      pull: "never",
      spec: defineProject({
        services: {
          a: { image: "berth-test/does-not-exist:1" },
          b: { image: fixtureImage() },
        },
      }),
    });
    expect(error).toBeInstanceOf(ImageMissingError);
    expect(error.message).toContain("berth-test/does-not-exist:1 (service a)");
    expect((error as ImageMissingError).hint).toContain("never");
  });

  it("refuses an invalid file (a dependency cycle) as a configuration error, creating nothing", async () => {
    const dir = composeDir();
    try {
      const file = dir.file(
        "compose.yml",
        `services:\n  a:\n    image: ${fixtureImage()}\n    depends_on: [b]\n  b:\n    image: ${fixtureImage()}\n    depends_on: [a]\n`,
      );
      const error = await failingUp({ files: [file] });
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(2);
      expect(error.message).toMatch(/cycle/);
    } finally {
      dir.remove();
    }
  });

  it("names the container holding a fixed host port", { timeout: 240_000 }, async () => {
    const holder = await startFixture({});
    const { id } = await engine.createContainer({
      name: uniqueName("port-holder"),
      Image: fixtureImage(),
      Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait"],
      Labels: testLabels(),
      ExposedPorts: { "8080/tcp": {} },
      HostConfig: { PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
    });
    try {
      await engine.startContainer(id);
      const port = Number(
        (await engine.inspectContainer(id)).NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort,
      );
      const error = await failingUp({
        spec: defineProject({ services: { web: { image: fixtureImage(), ports: [`${port}:8080`] } } }),
      });
      expect(error).toBeInstanceOf(PortTakenError);
      expect((error as PortTakenError).port).toBe(port);
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.message).toContain("port-holder");
    } finally {
      await Promise.all([safeRemove(engine, id, { graceSeconds: 2 }), safeRemove(engine, holder.id)]);
    }
  });
});

describe("container names", () => {
  it("clears a leftover container of a dead session, and refuses a name held by anything else", {
    timeout: 240_000,
  }, async () => {
    const project = `berth-test-left-${newSessionId().slice(0, 6)}`;
    const deadOwner = `${hostname()}/${process.pid}/1`;
    const { id: leftover } = await engine.createContainer({
      name: `${project}-web-1`,
      Image: fixtureImage(),
      Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait"],
      Labels: testLabels({
        [LABELS.session]: "deadsession01",
        [LABELS.project]: project,
        [LABELS.service]: "web",
        [LABELS.owner]: deadOwner,
      }),
    });
    await engine.startContainer(leftover);
    const spec = defineProject({
      services: {
        web: {
          image: fixtureImage(),
          command: httpdCommand(),
          healthcheck: { test: HTTP_HEALTHCHECK, intervalMs: 300, retries: 20 },
        },
      },
    });
    const warnings: string[] = [];
    const env = await up({
      spec,
      project,
      onProgress: (e) => {
        if (e.type === "warning") warnings.push(e.message);
      },
    });
    try {
      expect(await engine.findContainer(leftover)).toBeUndefined();
      expect(warnings.join("\n")).toContain(`Removed leftover container ${project}-web-1`);
    } finally {
      await env.down();
    }
    expect(await projectResources(project)).toEqual([]);

    const foreign = await startFixture({ name: `${project}-web-1` });
    try {
      const error = await failingUp({ spec, project });
      expect(error).toBeInstanceOf(NameConflictError);
      expect(error.message).toContain(`${project}-web-1`);
      expect(error.message).toContain("not created by berth");
      expect(await engine.findContainer(foreign.id)).toBeDefined();
    } finally {
      await safeRemove(engine, foreign.id);
    }
  });
});
