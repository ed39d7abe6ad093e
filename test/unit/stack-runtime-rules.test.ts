import { describe, expect, it } from "vitest";
import { shellExitCode } from "../../src/cli/commands/run.js";
import { ConfigError } from "../../src/engine/errors.js";
import { backoffDelays } from "../../src/lifecycle/backoff.js";
import { toContainerEvent } from "../../src/lifecycle/container-events.js";
import { isPortTakenMessage, portFromMessage } from "../../src/lifecycle/host-ports.js";
import { isIgnored, parseDockerignore } from "../../src/stack/build-context.js";
import { defineProject } from "../../src/stack/builder.js";
import { endpointEnv, endpointsFromPorts, findEndpoint } from "../../src/stack/endpoints.js";
import { EnvironmentEndpoints } from "../../src/stack/environment.js";
import { environmentFromEnv, environmentVariables } from "../../src/stack/environment-variables.js";
import { endpointEnvName, projectNameFor, sanitizeProjectBase } from "../../src/stack/naming.js";
import { assertStartable, findCycle, shutdownDependents } from "../../src/stack/plan.js";
import { describeEvent } from "../../src/stack/progress/plain.js";
import { isCI } from "../../src/stack/progress/reporter.js";
import { oneShotServices, readinessStrategies } from "../../src/stack/readiness.js";
import { healthFromStatus } from "../../src/stack/status.js";
import { selectServices } from "../../src/stack/up.js";

describe("project names", () => {
  it("are unique per run unless given", () => {
    expect(projectNameFor({ sessionId: "abcdef1234567", fileName: "My App" })).toBe("my-app-abcdef12");
    expect(projectNameFor({ sessionId: "abcdef1234567" })).toBe("berth-abcdef12");
    expect(projectNameFor({ sessionId: "x", explicit: "ci_42" })).toBe("ci_42");
  });
  it("refuses an invalid explicit name as a configuration error", () => {
    expect(() => projectNameFor({ sessionId: "x", explicit: "Bad Name" })).toThrow(ConfigError);
    expect(sanitizeProjectBase("--")).toBe("berth");
  });
  it("turns endpoints into environment variable names", () => {
    expect(endpointEnvName("redis", 6379)).toBe("REDIS_6379");
    expect(endpointEnvName("my-db.x", 5432)).toBe("MY_DB_X_5432");
    expect(endpointEnvName("dns", 53, "udp")).toBe("DNS_53_UDP");
  });
});

describe("dependency graph", () => {
  it("finds a cycle as a closed path", () => {
    const edges = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", []],
    ]);
    expect(findCycle(edges)).toEqual(["a", "b", "c", "a"]);
    expect(
      findCycle(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toBeUndefined();
  });
  it("refuses unknown dependencies and cycles in programmatic projects", () => {
    const unknown = defineProject({ services: { a: { image: "i", dependsOn: ["ghost"] } } });
    expect(() => assertStartable(unknown)).toThrow(/unknown service `ghost`/);
    const cyclic = defineProject({
      services: { a: { image: "i", dependsOn: ["b"] }, b: { image: "i", dependsOn: ["a"] } },
    });
    expect(() => assertStartable(cyclic)).toThrow(/Dependency cycle: a -> b -> a/);
  });
  it("stops dependents first and never deadlocks on damaged labels", () => {
    const order = shutdownDependents([
      { name: "db", dependsOn: [] },
      { name: "api", dependsOn: ["db", "cache"] },
      { name: "cache", dependsOn: [] },
      { name: "web", dependsOn: ["api"] },
    ]);
    expect(order.get("db")).toEqual(["api"]);
    expect(order.get("api")).toEqual(["web"]);
    expect(order.get("web")).toEqual([]);
    const cyclic = shutdownDependents([
      { name: "a", dependsOn: ["b"] },
      { name: "b", dependsOn: ["a"] },
    ]);
    expect(findCycle(cyclic)).toBeUndefined();
  });
  it("selects services with their dependencies", () => {
    const project = defineProject({
      services: { db: { image: "i" }, api: { image: "i", dependsOn: ["db"] }, web: { image: "i" } },
    });
    expect(Object.keys(selectServices(project, ["api"]).services).sort()).toEqual(["api", "db"]);
    expect(() => selectServices(project, ["nope"])).toThrow(ConfigError);
  });
});

describe("endpoints", () => {
  const endpoints = endpointsFromPorts("api", {
    "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "49153" }],
    "9000/tcp": null,
    "53/udp": [{ HostIp: "0.0.0.0", HostPort: "49154" }],
  });
  it("reads published ports and skips unpublished ones", () => {
    expect(endpoints).toEqual([
      {
        service: "api",
        containerPort: 53,
        protocol: "udp",
        host: "127.0.0.1",
        port: 49154,
        address: "127.0.0.1:49154",
      },
      {
        service: "api",
        containerPort: 8080,
        protocol: "tcp",
        host: "127.0.0.1",
        port: 49153,
        address: "127.0.0.1:49153",
      },
    ]);
    expect(endpointEnv(endpoints)).toEqual({ API_53_UDP: "127.0.0.1:49154", API_8080: "127.0.0.1:49153" });
  });
  it("names what is published when asked for something that is not", () => {
    expect(() => findEndpoint(endpoints, "api", 9000)).toThrow(/No published port 9000\/tcp for service api/);
  });
  it("round-trips through environment variables", () => {
    const env = new EnvironmentEndpoints({
      project: "p",
      session: "s",
      services: [{ name: "api", container: "p-api-1", state: "ready" }],
      endpoints,
    });
    const vars = environmentVariables(env);
    expect(vars.BERTH_PROJECT).toBe("p");
    expect(vars.API_8080).toBe("127.0.0.1:49153");
    const back = environmentFromEnv(vars);
    expect(back.url("api", 8080, "health")).toBe("http://127.0.0.1:49153/health");
    expect(() => back.endpoint("nope", 1)).toThrow(/No service nope/);
    expect(() => environmentFromEnv({})).toThrow(/BERTH_ENVIRONMENT is not set/);
  });
});

describe("readiness rules", () => {
  const project = defineProject({
    services: {
      web: { image: "i", ports: [8080, 8081, "53/udp"] },
      worker: { image: "i" },
      custom: { image: "i", ports: [8080], wait: [{ kind: "log", pattern: "ready" }] },
      migrate: { image: "i" },
      api: { image: "i", dependsOn: { migrate: "service_completed_successfully" } },
    },
  });
  it("waits on the healthcheck when the container has one, else on TCP ports, else on running", () => {
    expect(readinessStrategies(project.services.web!, true).map((s) => s.description)).toEqual([
      "healthcheck",
    ]);
    expect(readinessStrategies(project.services.web!, false).map((s) => s.description)).toEqual([
      "port 8080",
      "port 8081",
    ]);
    expect(readinessStrategies(project.services.worker!, false)).toEqual([]);
  });
  it("prefers x-berth wait strategies", () => {
    expect(readinessStrategies(project.services.custom!, true).map((s) => s.description)).toEqual([
      "log /ready/",
    ]);
  });
  it("treats service_completed_successfully targets as one-shot", () => {
    expect([...oneShotServices(project)]).toEqual(["migrate"]);
  });
});

describe("small rules", () => {
  it("grows backoff delays to a cap", () => {
    const delays = backoffDelays({ initialMs: 100, factor: 2, maxMs: 500 });
    expect([1, 2, 3, 4, 5].map(() => delays.next().value)).toEqual([100, 200, 400, 500, 500]);
  });
  it("reads health and exit events", () => {
    const actor = { ID: "c1", Attributes: { exitCode: "3" } };
    expect(
      toContainerEvent({
        Type: "container",
        Action: "health_status: healthy",
        Actor: actor,
        time: 0,
        timeNano: 0,
      }),
    ).toEqual({
      containerId: "c1",
      action: "health",
      health: "healthy",
    });
    expect(
      toContainerEvent({ Type: "container", Action: "die", Actor: actor, time: 0, timeNano: 0 }),
    ).toEqual({
      containerId: "c1",
      action: "die",
      exitCode: 3,
    });
    expect(
      toContainerEvent({ Type: "network", Action: "create", Actor: actor, time: 0, timeNano: 0 }),
    ).toBeUndefined();
  });
  it("recognises the daemon's port-taken messages", () => {
    const allocated =
      "driver failed programming external connectivity on endpoint p-api-1 (abc): Bind for 127.0.0.1:5432 failed: port is already allocated";
    const inUse = "Error starting userland proxy: listen tcp4 127.0.0.1:8080: bind: address already in use";
    expect(isPortTakenMessage(allocated)).toBe(true);
    expect(portFromMessage(allocated)).toBe(5432);
    expect(portFromMessage(inUse)).toBe(8080);
    expect(isPortTakenMessage("no such image")).toBe(false);
  });
  it("applies .dockerignore rules: last match wins, ! re-includes, directories cover their contents", () => {
    const rules = parseDockerignore("# comment\nnode_modules\n*.log\n!keep.log\n**/secret*\n/dist/\n");
    expect(isIgnored("node_modules/x/y.js", rules)).toBe(true);
    expect(isIgnored("a.log", rules)).toBe(true);
    expect(isIgnored("keep.log", rules)).toBe(false);
    expect(isIgnored("deep/dir/secret.txt", rules)).toBe(true);
    expect(isIgnored("dist/app.js", rules)).toBe(true);
    expect(isIgnored("src/app.js", rules)).toBe(false);
  });
  it("reads health from a container list's status text", () => {
    expect(healthFromStatus("Up 3 minutes (healthy)")).toBe("healthy");
    expect(healthFromStatus("Up 1 second (health: starting)")).toBe("starting");
    expect(healthFromStatus("Exited (0) 2 seconds ago")).toBeUndefined();
  });
  it("computes a shell's exit code for a command ended by a signal", () => {
    expect(shellExitCode(3, null)).toBe(3);
    expect(shellExitCode(null, "SIGINT")).toBe(130);
    expect(shellExitCode(null, "SIGTERM")).toBe(143);
  });
  it("describes progress as plain lines and detects CI", () => {
    expect(describeEvent({ type: "service", service: "api", phase: "ready", detail: "1.2s" })).toBe(
      "api: ready (1.2s)",
    );
    expect(describeEvent({ type: "service", service: "api", phase: "pending" })).toBeUndefined();
    expect(isCI({ CI: "true" })).toBe(true);
    expect(isCI({ CI: "false" })).toBe(false);
    expect(isCI({})).toBe(false);
  });
});
