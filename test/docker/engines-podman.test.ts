// berth against Podman's Docker-compatible API (Debian's Podman 4.3): doctor names the engine
// and what it lacks, and a Compose stack with a healthcheck and a network alias comes up, is
// listed and goes down leaving nothing. CI also runs `berth validate --quick` against Podman
// (scripts/podman-service.sh); this file covers the CLI paths validate does not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBusyboxFixture } from "../../src/fixtures/busybox.js";
import { type PodmanService, startPodmanService } from "../../src/fixtures/podman-service.js";
import { LABELS } from "../../src/janitor/labels.js";
import { berthWith } from "./engines-support.js";
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
    // Debian's Podman 4.3 on this cgroup v1 machine without systemd reports neither.
    expect(["pass", "warn"]).toContain(status["oom-events"]);
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
});
