// Which checks decide that a service is ready. The rule: berth's `x-berth.wait` when the file
// gives one; else the Docker healthcheck when the container has one (from the file or the
// image); else every published TCP port accepting connections; else simply running. A
// healthcheck is seen early: Docker probes at `start_interval` where it can (API >= 1.44, within
// a start period), else berth runs the test itself with exec on a bounded back-off.

import { ConfigError } from "../engine/errors.js";
import { commandWait } from "../lifecycle/wait/command.js";
import { healthcheckWait } from "../lifecycle/wait/health.js";
import {
  type DockerHealthConfig,
  type HealthExecPlan,
  healthExecPlan,
} from "../lifecycle/wait/health-exec.js";
import { httpWait } from "../lifecycle/wait/http.js";
import { logWait } from "../lifecycle/wait/log.js";
import { portWait } from "../lifecycle/wait/port.js";
import type { WaitStrategy } from "../lifecycle/wait/types.js";
import type { ComposeProject, HealthcheckSpec, ServiceSpec, WaitStrategySpec } from "../model/compose.js";

/** The start_interval berth sets where Docker honours it and the file gives none. */
export const BERTH_START_INTERVAL_MS = 250;

/** `1.44` and later: Docker runs probes at `start_interval` during the start period. */
export function supportsStartInterval(apiVersion: string): boolean {
  const [major = 0, minor = 0] = apiVersion.split(".").map(Number);
  return major > 1 || (major === 1 && minor >= 44);
}

/** The start_interval berth adds to a file's healthcheck (ms), or undefined to leave it as it is. */
export function startIntervalToAdd(
  health: HealthcheckSpec | undefined,
  apiVersion: string,
): number | undefined {
  if (!health || health.disable || health.startIntervalMs !== undefined) return undefined;
  if (!health.startPeriodMs || !supportsStartInterval(apiVersion)) return undefined;
  return BERTH_START_INTERVAL_MS;
}

/** The started container's healthcheck and shell, as inspect shows them. */
export interface ContainerHealth {
  config?: DockerHealthConfig & { StartPeriod?: number; StartInterval?: number };
  shell?: string[];
}

/**
 * What berth execs to see the healthcheck pass early: nothing where Docker itself probes at a
 * start interval (API >= 1.44 and a start period), else the container's own test.
 */
export function readinessExecPlan(
  container: ContainerHealth,
  apiVersion: string,
): HealthExecPlan | undefined {
  const config = container.config;
  if (
    supportsStartInterval(apiVersion) &&
    (config?.StartPeriod ?? 0) > 0 &&
    (config?.StartInterval ?? 0) > 0
  ) {
    return undefined;
  }
  return healthExecPlan(config, container.shell);
}

function waitStrategy(spec: WaitStrategySpec, exec?: HealthExecPlan): WaitStrategy {
  switch (spec.kind) {
    case "healthcheck":
      return healthcheckWait(exec ? { exec } : {});
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

/**
 * The checks for a service; `containerHasHealth` says whether the started container reports
 * health, `exec` is how berth sees its healthcheck pass early (readinessExecPlan).
 */
export function readinessStrategies(
  service: ServiceSpec,
  containerHasHealth: boolean,
  exec?: HealthExecPlan,
): WaitStrategy[] {
  if (service.berth.wait !== undefined) return service.berth.wait.map((spec) => waitStrategy(spec, exec));
  if (containerHasHealth) return [healthcheckWait(exec ? { exec } : {})];
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
