// Lint rules on ComposeProject values: profiles count as limits, allow lists suppress, image
// references and test file names are read correctly.
import { describe, expect, it } from "vitest";
import { parseLimitProfile } from "../../src/memory/profiles.js";
import type { ComposeProject, ServiceSpec } from "../../src/model/compose.js";
import { lintCompose } from "../../src/stack/lint/lint.js";
import { imageTag, isTestComposeFile } from "../../src/stack/lint/rules.js";

function service(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image: "app:1.0",
    environment: {},
    ports: [],
    expose: [],
    dependsOn: [],
    memory: { limitBytes: 64 * 1024 ** 2 },
    volumes: [],
    networks: [],
    labels: {},
    tmpfs: [],
    profiles: [],
    berth: {},
    location: { file: "/p/compose.yml", line: 2, column: 3, path: `services.${name}` },
    ...extra,
  };
}

function project(...services: ServiceSpec[]): ComposeProject {
  return {
    files: ["/p/compose.yml"],
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    networks: {},
    volumes: {},
    unsupported: [],
  };
}

const rules = (findings: { rule: string; service?: string }[]) =>
  findings.map((f) => `${f.rule}:${f.service}`);

describe("lint rules on the model", () => {
  it("passes a clean project", () => {
    expect(lintCompose(project(service("api")))).toEqual([]);
  });

  it("counts a profile rule (from options or x-berth) as a memory limit", () => {
    const unlimited = project(service("api", { memory: {} }), service("db", { memory: {} }));
    expect(rules(lintCompose(unlimited))).toEqual(["memory-limit:api", "memory-limit:db"]);
    const profile = parseLimitProfile({ limits: { "a*": "128m" } }, "limits.yml");
    expect(rules(lintCompose(unlimited, [], { profile }))).toEqual(["memory-limit:db"]);
    const sources = [{ file: "/p/compose.yml", value: { "x-berth": { limits: { db: "1g" } } } }];
    expect(rules(lintCompose(unlimited, sources, { profile }))).toEqual([]);
  });

  it("places a finding at the service when the file cannot be located", () => {
    const [finding] = lintCompose(project(service("api", { privileged: true })));
    expect(finding).toMatchObject({ rule: "privileged", file: "/p/compose.yml", line: 2, column: 3 });
  });

  it("uses the override file that writes the key, and suppresses what a service allows", () => {
    const p = project(service("api", { privileged: true, pid: "host" }));
    p.files.push("/p/compose.override.yml");
    const sources = [
      { file: "/p/compose.yml", value: { services: { api: { image: "app:1.0" } } } },
      {
        file: "/p/compose.override.yml",
        value: { services: { api: { privileged: true, pid: "host", "x-berth": { allow: ["host-pid"] } } } },
      },
    ];
    const findings = lintCompose(p, sources, { locate: (_file, path) => ({ line: path.length, column: 1 }) });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: "privileged",
        file: "/p/compose.override.yml",
        line: 3,
        path: "services.api.privileged",
      }),
    ]);
  });

  it("flags a healthcheck disabled by test NONE", () => {
    const db = service("db", { healthcheck: { test: ["NONE"] } });
    const api = service("api", {
      dependsOn: [{ service: "db", condition: "service_healthy", required: true }],
    });
    expect(rules(lintCompose(project(db, api)))).toEqual(["healthcheck-missing:db"]);
    const started = service("api", {
      dependsOn: [{ service: "db", condition: "service_started", required: true }],
    });
    expect(lintCompose(project(db, started))).toEqual([]);
  });

  it("reads image references", () => {
    expect(imageTag("redis")).toEqual({ tag: undefined, digest: false });
    expect(imageTag("redis:7")).toEqual({ tag: "7", digest: false });
    expect(imageTag("localhost:5000/redis")).toEqual({ tag: undefined, digest: false });
    expect(imageTag("localhost:5000/team/redis:latest")).toEqual({ tag: "latest", digest: false });
    expect(imageTag("redis@sha256:abc")).toEqual({ digest: true });
  });

  it("recognises test files by name", () => {
    for (const file of [
      "compose.test.yml",
      "/x/docker-compose.e2e.yaml",
      "test-compose.yml",
      "ci.yml",
      "compose.integration.yml",
    ]) {
      expect(isTestComposeFile(file), file).toBe(true);
    }
    for (const file of [
      "compose.yml",
      "/tests/compose.yml",
      "contest.yml",
      "compose.override.yml",
      "latest.yml",
    ]) {
      expect(isTestComposeFile(file), file).toBe(false);
    }
  });
});
