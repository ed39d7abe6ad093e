import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Dependency, DependencyCondition } from "../../src/model/compose.js";
import { ComposeError, loadCompose } from "../../src/stack/compose/index.js";
import { findDependencyCycle, planShutdown, planStartup } from "../../src/stack/plan.js";
import { FIXTURES } from "./compose-support.js";

type Graph = Record<string, string[] | Record<string, DependencyCondition>>;

/** A minimal project from `service -> dependencies`. */
function project(graph: Graph) {
  const services: Record<string, { dependsOn: Dependency[] }> = {};
  for (const [name, deps] of Object.entries(graph)) {
    const entries = Array.isArray(deps)
      ? deps.map((d) => [d, "service_started"] as const)
      : Object.entries(deps);
    services[name] = {
      dependsOn: entries.map(([service, condition]) => ({ service, condition, required: true })),
    };
  }
  return { services } as never;
}

const names = (levels: { service: string }[][]) => levels.map((level) => level.map((s) => s.service));

describe("planStartup", () => {
  it("puts independent services in one level and dependents after their dependencies", () => {
    const plan = planStartup(project({ web: ["api"], api: ["db", "cache"], db: [], cache: [], solo: [] }));
    expect(names(plan.levels)).toEqual([["cache", "db", "solo"], ["api"], ["web"]]);
  });

  it("places a service after its deepest dependency", () => {
    const plan = planStartup(project({ a: [], b: ["a"], c: ["b"], d: ["a", "c"] }));
    expect(names(plan.levels)).toEqual([["a"], ["b"], ["c"], ["d"]]);
  });

  it("carries each dependency's condition", () => {
    const plan = planStartup(
      project({
        db: [],
        migrate: { db: "service_healthy" },
        api: { db: "service_healthy", migrate: "service_completed_successfully" },
      }),
    );
    const api = plan.levels[2]![0]!;
    expect(api.service).toBe("api");
    expect(api.dependencies.map((d) => [d.service, d.condition])).toEqual([
      ["db", "service_healthy"],
      ["migrate", "service_completed_successfully"],
    ]);
  });

  it("plans the busybox stack: db and cache, then migrate, then api, then web", async () => {
    const { project: stack } = await loadCompose({
      files: [join(FIXTURES, "good", "busybox-stack.yml")],
      env: {},
    });
    expect(names(planStartup(stack).levels)).toEqual([["cache", "db"], ["migrate"], ["api"], ["web"]]);
    expect(names(planShutdown(stack).levels)).toEqual([["web"], ["api"], ["cache", "migrate"], ["db"]]);
  });

  it("plans only what was asked for and what it needs", () => {
    const graph = project({ web: ["api"], api: ["db"], db: [], other: [] });
    expect(names(planStartup(graph, { only: ["api"] }).levels)).toEqual([["db"], ["api"]]);
    expect(() => planStartup(graph, { only: ["nope"] })).toThrow(/unknown service nope/);
  });

  it("ignores optional dependencies that are not in the project", () => {
    const graph = project({ a: [] });
    (graph as { services: Record<string, { dependsOn: Dependency[] }> }).services.a!.dependsOn.push({
      service: "gone",
      condition: "service_started",
      required: false,
    });
    expect(names(planStartup(graph).levels)).toEqual([["a"]]);
  });

  it("refuses unknown required dependencies", () => {
    expect(() => planStartup(project({ a: ["ghost"] }))).toThrow(
      "service a depends on unknown service ghost",
    );
  });

  it("names a cycle and refuses it", () => {
    const graph = project({ api: ["db"], db: ["api"], web: ["api"] });
    expect(() => planStartup(graph)).toThrow(ComposeError);
    expect(() => planStartup(graph)).toThrow("dependency cycle: api -> db -> api");
  });
});

describe("planShutdown", () => {
  it("stops dependents first, and a service as soon as nothing that needs it runs", () => {
    const plan = planShutdown(project({ web: ["api"], api: ["db"], db: [], worker: ["db"], cron: [] }));
    expect(names(plan.levels)).toEqual([["cron", "web", "worker"], ["api"], ["db"]]);
    expect(plan.levels[2]![0]!.dependents).toEqual(["api", "worker"]);
  });
});

describe("findDependencyCycle", () => {
  it.each([
    [{ a: ["a"] }, ["a", "a"]],
    [{ a: ["b"], b: ["a"] }, ["a", "b", "a"]],
    [{ x: [], a: ["b"], b: ["c"], c: ["a"] }, ["a", "b", "c", "a"]],
    [{ a: ["b"], b: ["c"], c: [] }, undefined],
  ] as [Graph, string[] | undefined][])("%j -> %j", (graph, cycle) => {
    expect(findDependencyCycle((project(graph) as { services: never }).services)).toEqual(cycle);
  });
});
