// The dependency graph rules the runtime relies on: every dependency exists, there is no cycle,
// and on the way down a service stops only after everything that depends on it. Pure.
import { ConfigError } from "../engine/errors.js";
import type { ComposeProject } from "./model.js";

/** A cycle as a path that returns to its start (`a -> b -> a`), or undefined. */
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

/** Refuses a project whose dependencies cannot be started: unknown services, cycles. */
export function assertStartable(project: ComposeProject): void {
  const edges = new Map<string, string[]>();
  for (const service of Object.values(project.services)) {
    const deps: string[] = [];
    service.dependsOn.forEach((dep, i) => {
      if (project.services[dep.service]) deps.push(dep.service);
      else if (dep.required) {
        throw new ConfigError(
          `${service.location.file}: services.${service.name}.depends_on[${i}]: unknown service \`${dep.service}\``,
          {
            resource: `services.${service.name}.depends_on`,
            hint: `Known services: ${Object.keys(project.services).join(", ")}`,
          },
        );
      }
    });
    edges.set(service.name, deps);
  }
  const cycle = findCycle(edges);
  if (cycle) {
    throw new ConfigError(`Dependency cycle: ${cycle.join(" -> ")}`, {
      resource: "depends_on",
      hint: "Remove one of the depends_on entries in the cycle.",
    });
  }
}

export interface ShutdownNode {
  name: string;
  dependsOn: string[];
}

/**
 * For each service, the services that must be stopped before it (its dependents). Edges that
 * would close a cycle are dropped, so a damaged label set can never deadlock a `down`.
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
