// Checks that need the whole merged project: services that depend on unknown or disabled ones,
// networks and named volumes that are not declared, `network_mode: service:X`, and cycles.
import type { ComposeProject, ServiceSpec } from "../../model/compose.js";
import { cycleError, findDependencyCycle } from "../plan.js";
import { ComposeError } from "./errors.js";

interface ReferenceContext {
  /** Services dropped because none of their profiles is active, with those profiles. */
  disabled: Map<string, string[]>;
  warnings: string[];
}

function checkDependencies(service: ServiceSpec, project: ComposeProject, context: ReferenceContext): void {
  service.dependsOn = service.dependsOn.filter((dependency) => {
    const target = dependency.service;
    const at = dependency.location ?? service.location;
    if (target === service.name) {
      throw ComposeError.at(at, `dependency cycle: ${service.name} -> ${service.name}`, {
        hint: "A service cannot depend on itself.",
      });
    }
    if (target in project.services) return true;
    const profiles = context.disabled.get(target);
    if (!dependency.required) {
      context.warnings.push(
        `${service.name} depends on ${target}, which is ${profiles ? "disabled by its profiles" : "not defined"}; the optional dependency is ignored.`,
      );
      return false;
    }
    if (profiles) {
      throw ComposeError.at(at, `service ${service.name} needs ${target}, which is disabled`, {
        hint: `Enable one of its profiles (${profiles.join(", ")}) with --profile, or mark the dependency required: false.`,
      });
    }
    throw ComposeError.at(at, `service ${service.name} depends on unknown service ${target}`, {
      value: target,
      hint: `Known services: ${Object.keys(project.services).join(", ")}.`,
    });
  });
}

function checkNetworks(service: ServiceSpec, project: ComposeProject): void {
  const mode = service.networkMode;
  const shared = mode?.startsWith("service:") ? mode.slice("service:".length) : undefined;
  if (shared !== undefined && !(shared in project.services)) {
    throw ComposeError.at(service.location, `network_mode refers to unknown service ${shared}`, {
      value: mode,
    });
  }
  for (const network of service.networks) {
    if (network.name in project.networks) continue;
    if (network.name === "default") {
      project.networks.default = { name: "default", external: false, labels: {} };
      continue;
    }
    throw ComposeError.at(
      network.location ?? service.location,
      `service ${service.name} refers to undefined network ${network.name}`,
      {
        hint: "Declare it under the top-level networks key.",
      },
    );
  }
}

function checkVolumes(service: ServiceSpec, project: ComposeProject): void {
  for (const mount of service.volumes) {
    if (mount.type !== "volume" || mount.source in project.volumes) continue;
    throw ComposeError.at(
      mount.location ?? service.location,
      `service ${service.name} refers to undefined volume ${mount.source}`,
      {
        hint: "Declare it under the top-level volumes key, or write ./PATH for a bind mount.",
      },
    );
  }
}

export function checkReferences(project: ComposeProject, context: ReferenceContext): void {
  for (const service of Object.values(project.services)) {
    checkDependencies(service, project, context);
    checkNetworks(service, project);
    checkVolumes(service, project);
  }
  const cycle = findDependencyCycle(project.services);
  if (cycle) throw cycleError(project.services, cycle);
}
