// The dependency planner: in which order services start (levels that start in parallel, each
// after the levels before it) and stop (the reverse), with each dependency's condition.
// Pure: works on the model only.

import { ComposeError } from "./compose/errors.js";
import type { ComposeProject, Dependency, ServiceSpec } from "./model.js";

type Services = Record<string, Pick<ServiceSpec, "dependsOn"> & Partial<Pick<ServiceSpec, "location">>>;

export interface PlannedStart {
  service: string;
  /** What to wait for before starting this service. */
  dependencies: Dependency[];
}

export interface StartupPlan {
  /** Level 0 has no dependencies; level N depends only on levels below N. */
  levels: PlannedStart[][];
}

export interface PlannedStop {
  service: string;
  /** Services that depend on this one; they are stopped in earlier levels. */
  dependents: string[];
}

export interface ShutdownPlan {
  /** Level 0 holds the services nothing depends on; each level stops after the one before. */
  levels: PlannedStop[][];
}

export interface PlanOptions {
  /** Plan only these services and what they need (transitively); default: all. */
  only?: string[];
}

/** The first dependency cycle found, as a closed path (`["api", "db", "api"]`), or undefined. */
export function findDependencyCycle(services: Services): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const dependency of services[name]?.dependsOn ?? []) {
      if (!(dependency.service in services)) continue;
      const cycle = visit(dependency.service);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of Object.keys(services).sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
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
