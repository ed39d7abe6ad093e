// Is a reusable environment still fit to hand over? Pure, from the daemon's container list:
// every service has its container, long-running ones are running and not unhealthy where they
// have a healthcheck, one-shot ones exited 0, and every port the project publishes is published.
import type { ComposeProject } from "../../model/compose.js";
import { oneShotServices } from "../readiness.js";
import { healthFromStatus } from "../status.js";

/** What the container list says about one container. */
export interface ListedContainer {
  Id: string;
  Names: string[];
  State: string;
  Status: string;
  Labels: Record<string, string>;
  Ports: { PrivatePort: number; PublicPort?: number; Type: string; IP?: string }[];
  ImageID?: string;
}

/** The problems found, one sentence each; none means fit. */
export function safetyProblems(project: ComposeProject, containers: Map<string, ListedContainer>): string[] {
  const problems: string[] = [];
  const oneShots = oneShotServices(project);
  for (const service of Object.values(project.services)) {
    const container = containers.get(service.name);
    if (!container) {
      problems.push(`service ${service.name} has no container`);
      continue;
    }
    if (oneShots.has(service.name)) {
      if (!/^Exited \(0\)/.test(container.Status)) {
        problems.push(`one-shot service ${service.name} is ${container.Status || container.State}`);
      }
      continue;
    }
    if (container.State !== "running") {
      problems.push(`service ${service.name} is ${container.State} (${container.Status})`);
      continue;
    }
    const health = healthFromStatus(container.Status);
    // "starting": Docker has not run its first probe yet. berth's own exec probes found the
    // service ready at its up (readiness before Docker's schedule), so only unhealthy disqualifies.
    if (health === "unhealthy") problems.push(`service ${service.name} is ${health}`);
    for (const port of service.ports) {
      const published = container.Ports.some(
        (p) => p.PrivatePort === port.target && p.Type === port.protocol && p.PublicPort,
      );
      if (!published) {
        problems.push(`port ${port.target}/${port.protocol} of service ${service.name} is not published`);
      }
    }
  }
  return problems;
}
