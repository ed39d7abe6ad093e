// berth against Podman's Docker-compatible API (Debian's Podman 4.3): doctor names the engine
// and what it lacks (on cgroup v1: OOM kills are not reported), a Compose stack with a
// healthcheck and a network alias comes up, is listed and goes down leaving nothing, and
// containers other clients create through `berth proxy` get Docker's stop timeout. CI also runs `berth validate --quick` against Podman
// (scripts/podman-service.sh); this file covers the CLI paths validate does not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerInspect } from "../../src/engine/types.js";
import { ensureBusyboxFixture } from "../../src/fixtures/busybox.js";
import { type PodmanService, startPodmanService } from "../../src/fixtures/podman-service.js";
import { LABELS } from "../../src/model/labels.js";
import { berthWith } from "./engines-support.js";
import { http, startTestProxy } from "./proxy-support.js";
import { composeDir } from "./stack-fixtures.js";

let podman: PodmanService;
let image: string;
const dir = composeDir();

beforeAll(async () => {
  podman = await startPodmanService();
  image = (await ensureBusyboxFixture(podman.engine)).ref;
});

afterAll(async () => {
  dir.remove();
  await podman?.stop();
});

describe("berth on Podman", () => {
  it("doctor names Podman, where its endpoint came from, and what berth works around", async () => {
    const result = await berthWith(["doctor", "--json"], podman.env, dir.dir);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.endpoint).toMatchObject({ url: podman.dockerHost, source: "DOCKER_HOST" });
    expect(report.engine).toMatchObject({ kind: "podman", name: "Podman", rootless: false });
    const status = Object.fromEntries(
      report.checks.map((c: { id: string; status: string }) => [c.id, c.status]),
    );
    expect(status.events).toBe("pass");
    expect(status["memory-limits"]).toBe("pass");
    // Measured on cgroup v1 (`stat -fc %T /sys/fs/cgroup` says tmpfs): a container killed at its
    // 16 MiB limit exits 137, but Podman 4.3 sets no State.OOMKilled and sends no oom event.
    // On cgroup v2 Podman reads the kill from the cgroup's memory.events; that was not measured.
    if (report.engine.cgroupVersion === "1") {
      expect(report.checks.find((c: { id: string }) => c.id === "oom-events")).toMatchObject({
        status: "warn",
        detail: expect.stringContaining("neither State.OOMKilled nor an oom event"),
      });
    } else {
      expect(["pass", "warn"]).toContain(status["oom-events"]);
    }
    // Without systemd, Podman never runs healthchecks on its own (berth runs them while it waits).
    expect(["pass", "warn"]).toContain(status.healthchecks);
    const left = await podman.engine.listContainers({ all: true, filters: { label: [LABELS.session] } });
    expect(left.filter((c) => c.Labels?.[LABELS.project]?.startsWith("berth-doctor-"))).toEqual([]);
  });

  it("up waits on a healthcheck and a network alias, ps lists it, down leaves nothing", async () => {
    const file = dir.file(
      "compose.yaml",
      `services:
  db:
    image: ${image}
    command: ["sh", "-c", "mkdir -p /www && echo from-db > /www/index.html && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]
      interval: 500ms
      retries: 20
  app:
    image: ${image}
    depends_on:
      db:
        condition: service_healthy
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    healthcheck:
      test: ["CMD", "sh", "-c", "wget -q -O- http://db:8080/ | grep -q from-db"]
      interval: 500ms
      retries: 20
`,
    );
    try {
      const up = await berthWith(["up", "-f", file, "-p", "podman-e2e", "--json"], podman.env, dir.dir);
      expect(up.code, up.stderr).toBe(0);
      const ps = await berthWith(["ps", "-p", "podman-e2e", "--json"], podman.env, dir.dir);
      const rows = JSON.parse(ps.stdout) as Array<{ service: string; health?: string }>;
      expect(rows.map((r) => [r.service, r.health]).sort()).toEqual([
        ["app", "healthy"],
        ["db", "healthy"],
      ]);
    } finally {
      const down = await berthWith(["down", "-p", "podman-e2e"], podman.env, dir.dir);
      expect(down.code, down.stderr).toBe(0);
    }
    const filters = { label: [`${LABELS.project}=podman-e2e`] };
    expect(await podman.engine.listContainers({ all: true, filters })).toEqual([]);
    expect(await podman.engine.listNetworks(filters)).toEqual([]);
  });

  it("containers created through berth proxy without a stop timeout get Docker's 10 s, not Podman's 0", async () => {
    const proxy = await startTestProxy({ upstream: podman.dockerHost, env: podman.env });
    const ids: string[] = [];
    try {
      const create = async (name: string, extra: Record<string, unknown>) => {
        const answer = await http(proxy.socketPath, "POST", `/v1.41/containers/create?name=${name}`, {
          body: JSON.stringify({ Image: image, Cmd: ["true"], ...extra }),
          headers: { "Content-Type": "application/json" },
        });
        expect(answer.status, answer.body).toBe(201);
        const id = (JSON.parse(answer.body) as { Id: string }).Id;
        ids.push(id);
        return (
          (await podman.engine.inspectContainer(id)) as ContainerInspect & {
            Config: { StopTimeout?: number };
          }
        ).Config.StopTimeout;
      };
      expect(await create("berth-podman-proxy-default", {})).toBe(10);
      expect(await create("berth-podman-proxy-chosen", { StopTimeout: 3 })).toBe(3);
      expect(await create("berth-podman-proxy-zero", { StopTimeout: 0 })).toBe(0);
    } finally {
      for (const id of ids) await podman.engine.removeContainer(id, { volumes: true }).catch(() => undefined);
      await proxy.stop();
    }
  });
});
