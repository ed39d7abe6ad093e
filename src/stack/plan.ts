// The dependency planner: in which order services start (levels that start in parallel, each
// after the levels before it) and stop (the reverse), with each dependency's condition; and the
// rules the runtime relies on: every dependency exists, there is no cycle, and on the way down a
// service stops only after everything that depends on it. Pure: works on the model only.

import { ConfigError } from "../engine/errors.js";
import type { ComposeProject, Dependency, ServiceSpec } from "../model/compose.js";
import { ComposeError } from "./compose/errors.js";

type Services = Record<string, Pick<ServiceSpec, "dependsOn"> & Partial<Pick<ServiceSpec, "location">>>;

interface PlannedStart {
  service: string;
  /** What to wait for before starting this service. */
  dependencies: Dependency[];
}

interface StartupPlan {
  /** Level 0 has no dependencies; level N depends only on levels below N. */
  levels: PlannedStart[][];
}

interface PlannedStop {
  service: string;
  /** Services that depend on this one; they are stopped in earlier levels. */
  dependents: string[];
}

interface ShutdownPlan {
  /** Level 0 holds the services nothing depends on; each level stops after the one before. */
  levels: PlannedStop[][];
}

interface PlanOptions {
  /** Plan only these services and what they need (transitively); default: all. */
  only?: string[];
}

/**
 * The first cycle in a graph given as node -> the nodes it points to, as a closed path
 * (`["a", "b", "a"]`), or undefined. Edges to nodes outside the graph are ignored.
 */
export function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "visiting") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "visiting");
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The first dependency cycle found, as a closed path (`["api", "db", "api"]`), or undefined. */
export function findDependencyCycle(services: Services): string[] | undefined {
  return findCycle(
    new Map(Object.entries(services).map(([name, s]) => [name, s.dependsOn.map((d) => d.service)])),
  );
}

/** A ComposeError for a cycle, located at the dependency that closes it. */
export function cycleError(services: Services, cycle: string[]): ComposeError {
  const [from, to] = cycle as [string, string];
  const edge = services[from]?.dependsOn.find((d) => d.service === to);
  const location = edge?.location ?? services[from]?.location;
  const problem = `dependency cycle: ${cycle.join(" -> ")}`;
  const hint = "Remove one of these depends_on entries; services cannot wait for each other.";
  return location ? ComposeError.at(location, problem, { hint }) : new ComposeError(problem, { hint });
}

function selected(services: Services, only: string[] | undefined): string[] {
  if (!only) return Object.keys(services);
  const out = new Set<string>();
  const add = (name: string, from?: string) => {
    if (out.has(name)) return;
    if (!(name in services)) {
      throw new ComposeError(
        from ? `service ${from} depends on unknown service ${name}` : `unknown service ${name}`,
        {
          hint: `Known services: ${Object.keys(services).join(", ")}.`,
        },
      );
    }
    out.add(name);
    for (const dependency of services[name]!.dependsOn) {
      if (dependency.required || dependency.service in services) add(dependency.service, name);
    }
  };
  for (const name of only) add(name);
  return [...out];
}

function levelsOf(services: Services, names: string[]): Map<string, number> {
  const cycle = findDependencyCycle(Object.fromEntries(names.map((n) => [n, services[n]!])));
  if (cycle) throw cycleError(services, cycle);
  const level = new Map<string, number>();
  const depth = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const deps = services[name]!.dependsOn.filter((d) => names.includes(d.service));
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => depth(d.service)));
    level.set(name, value);
    return value;
  };
  for (const name of names) depth(name);
  return level;
}

function group<T>(names: string[], level: Map<string, number>, make: (name: string) => T): T[][] {
  const levels: T[][] = [];
  for (const name of [...names].sort()) {
    const index = level.get(name)!;
    levels[index] = [...(levels[index] ?? []), make(name)];
  }
  return levels;
}

/** Start order: services in one level start in parallel once every earlier level is ready. */
export function planStartup(
  project: Pick<ComposeProject, "services">,
  options: PlanOptions = {},
): StartupPlan {
  const services = project.services;
  const names = selected(services, options.only);
  for (const name of names) {
    for (const dependency of services[name]!.dependsOn) {
      if (dependency.required && !(dependency.service in services)) {
        throw new ComposeError(`service ${name} depends on unknown service ${dependency.service}`, {
          ...dependency.location,
        });
      }
    }
  }
  const level = levelsOf(services, names);
  return {
    levels: group(names, level, (service) => ({
      service,
      dependencies: services[service]!.dependsOn.filter((d) => names.includes(d.service)),
    })),
  };
}

/** Stop order: a service stops once everything that depends on it has stopped. */
export function planShutdown(
  project: Pick<ComposeProject, "services">,
  options: PlanOptions = {},
): ShutdownPlan {
  const startup = planStartup(project, options);
  const dependents = new Map<string, string[]>();
  const names: string[] = [];
  for (const level of startup.levels) {
    for (const { service, dependencies } of level) {
      names.push(service);
      for (const d of dependencies)
        dependents.set(d.service, [...(dependents.get(d.service) ?? []), service]);
    }
  }
  const level = new Map<string, number>();
  // Startup levels go from dependencies to dependents, so walking them backwards sees every
  // dependent of a service before the service itself.
  for (const name of [...names].reverse()) {
    const after = dependents.get(name) ?? [];
    level.set(name, after.length === 0 ? 0 : 1 + Math.max(...after.map((d) => level.get(d)!)));
  }
  return {
    levels: group(names, level, (service) => ({
      service,
      dependents: (dependents.get(service) ?? []).sort(),
    })),
  };
}

/**
 * Refuses a project whose dependencies cannot be started: unknown required services, cycles.
 * For projects that did not come through the Compose loader (which checks the same, located).
 */
export function assertStartable(project: Pick<ComposeProject, "services">): void {
  for (const service of Object.values(project.services)) {
    service.dependsOn.forEach((dep, i) => {
      if (!project.services[dep.service] && dep.required) {
        throw new ConfigError(
          `${service.location.file}: services.${service.name}.depends_on[${i}]: unknown service \`${dep.service}\``,
          {
            resource: `services.${service.name}.depends_on`,
            hint: `Known services: ${Object.keys(project.services).join(", ")}`,
          },
        );
      }
    });
  }
  const cycle = findDependencyCycle(project.services);
  if (cycle) {
    throw new ConfigError(`Dependency cycle: ${cycle.join(" -> ")}`, {
      resource: "depends_on",
      hint: "Remove one of the depends_on entries in the cycle.",
    });
  }
}

interface ShutdownNode {
  name: string;
  dependsOn: string[];
}

/**
 * For each service, the services that must be stopped before it (its dependents), from what the
 * daemon's labels say. Edges that would close a cycle are dropped, so a damaged label set can
 * never deadlock a `down`.
 */
export function shutdownDependents(nodes: ShutdownNode[]): Map<string, string[]> {
  const names = new Set(nodes.map((n) => n.name));
  const edges = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      if (!names.has(dep) || dep === node.name) continue;
      edges.get(dep)!.push(node.name);
      if (findCycle(edges)) edges.get(dep)!.pop();
    }
  }
  return edges;
}
