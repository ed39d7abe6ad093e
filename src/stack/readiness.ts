// Which checks decide that a service is ready. The rule: berth's `x-berth.wait` when the file
// gives one; else the Docker healthcheck when the container has one (from the file or the
// image); else every published TCP port accepting connections; else simply running.

import { ConfigError } from "../engine/errors.js";
import { commandWait } from "../lifecycle/wait/command.js";
import { healthcheckWait } from "../lifecycle/wait/health.js";
import { httpWait } from "../lifecycle/wait/http.js";
import { logWait } from "../lifecycle/wait/log.js";
import { portWait } from "../lifecycle/wait/port.js";
import type { WaitStrategy } from "../lifecycle/wait/types.js";
import type { ComposeProject, ServiceSpec, WaitStrategySpec } from "./model.js";

export function waitStrategy(spec: WaitStrategySpec): WaitStrategy {
  switch (spec.kind) {
    case "healthcheck":
      return healthcheckWait();
    case "port":
      return portWait(spec.port);
    case "log":
      return logWait(spec.pattern, spec.times);
    case "http":
      return httpWait(spec.port, spec.path, spec.status);
    case "command":
      return commandWait(spec.command);
  }
}

export function hasOwnHealthcheck(service: ServiceSpec): boolean {
  const hc = service.healthcheck;
  return hc !== undefined && !hc.disable && hc.test[0] !== "NONE";
}

/** The checks for a service; `containerHasHealth` says whether the started container reports health. */
export function readinessStrategies(service: ServiceSpec, containerHasHealth: boolean): WaitStrategy[] {
  if (service.berth.wait !== undefined) return service.berth.wait.map(waitStrategy);
  if (containerHasHealth) return [healthcheckWait()];
  const ports = new Set(service.ports.filter((p) => p.protocol === "tcp").map((p) => p.target));
  return [...ports].map((port) => portWait(port));
}

/** Services something waits on with `service_completed_successfully`: they are expected to exit 0. */
export function oneShotServices(project: ComposeProject): Set<string> {
  const names = new Set<string>();
  for (const service of Object.values(project.services)) {
    for (const dep of service.dependsOn) {
      if (dep.condition === "service_completed_successfully") names.add(dep.service);
    }
  }
  return names;
}

/** Refuses x-berth waits on ports the service does not publish over TCP: they could never pass. */
export function assertWaitable(project: ComposeProject): void {
  for (const service of Object.values(project.services)) {
    const published = new Set(service.ports.filter((p) => p.protocol === "tcp").map((p) => p.target));
    service.berth.wait?.forEach((wait, i) => {
      if ((wait.kind === "port" || wait.kind === "http") && !published.has(wait.port)) {
        throw new ConfigError(
          `${service.location.file}: services.${service.name}.x-berth.wait[${i}]: port ${wait.port} is not published by the service`,
          {
            resource: `services.${service.name}.x-berth.wait[${i}]`,
            hint: `berth checks ${wait.kind} readiness from the host: add "${wait.port}" to the service's ports.`,
          },
        );
      }
    });
  }
}
