// What is running: every berth environment's services with state, health, ports and memory
// limit, read from the daemon by label (so `berth ps` sees environments of any process).

import type { Engine } from "../engine/engine.js";
import { ConfigError, NotFoundError } from "../engine/errors.js";
import type { ContainerSummary } from "../engine/types.js";
import { isLeaseContainer } from "../janitor/lease.js";
import { containerName } from "../model/container-name.js";
import { LABELS } from "../model/labels.js";
import { type Endpoint, endpointsFromPorts } from "./endpoints.js";
import { describeSelector, type ProjectSelector, selectorLabel } from "./inventory.js";

export interface ServiceStatus {
  project: string;
  session: string;
  service: string;
  container: string;
  containerId: string;
  /** The image reference the container was created from. */
  image: string;
  /** The id of the image it runs (`sha256:...`). */
  imageId: string;
  /** Docker's state: running, exited, created, restarting, paused, dead. */
  state: string;
  /** healthy, unhealthy, starting; undefined without a healthcheck. */
  health?: string;
  endpoints: Endpoint[];
  memoryLimitBytes?: number;
  detached: boolean;
}

/** Reads `(healthy)`, `(unhealthy)` or `(health: starting)` from a container list's Status text. */
export function healthFromStatus(status: string): string | undefined {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (!match) return undefined;
  return match[1] === "health: starting" ? "starting" : match[1];
}

function listedEndpoints(service: string, container: ContainerSummary): Endpoint[] {
  const ports: Record<string, { HostIp?: string; HostPort?: string }[]> = {};
  for (const port of container.Ports ?? []) {
    if (!port.PublicPort) continue;
    const key = `${port.PrivatePort}/${port.Type}`;
    ports[key] = [...(ports[key] ?? []), { HostIp: port.IP, HostPort: String(port.PublicPort) }];
  }
  return endpointsFromPorts(service, ports);
}

export async function listServices(engine: Engine, selector: ProjectSelector = {}): Promise<ServiceStatus[]> {
  const label = selector.project || selector.session ? selectorLabel(selector) : LABELS.project;
  const listed = await engine.listContainers({ all: true, filters: { label: [label] } });
  // A reusable environment's lease containers are bookkeeping, not services.
  const containers = listed.filter((c) => !isLeaseContainer(c.Labels));
  const rows = await Promise.all(
    containers.map(async (c): Promise<ServiceStatus> => {
      const labels = c.Labels ?? {};
      const service = labels[LABELS.service] ?? containerName(c);
      const info = await engine.findContainer(c.Id).catch(() => undefined);
      const memory = info?.HostConfig.Memory;
      // Podman's list Status never says the health; its inspect does.
      const health =
        healthFromStatus(c.Status ?? "") ||
        (info?.State as { Health?: { Status?: string } } | undefined)?.Health?.Status ||
        undefined;
      return {
        project: labels[LABELS.project] ?? "",
        session: labels[LABELS.session] ?? "",
        service,
        container: containerName(c),
        containerId: c.Id,
        image: c.Image,
        imageId: c.ImageID,
        state: c.State,
        ...(health ? { health } : {}),
        endpoints: listedEndpoints(service, c),
        ...(memory ? { memoryLimitBytes: memory } : {}),
        detached: labels[LABELS.detached] === "true",
      };
    }),
  );
  return rows.sort((a, b) => a.project.localeCompare(b.project) || a.service.localeCompare(b.service));
}

/** The container of one service; without a selector, the service must be unambiguous across environments. */
export async function findServiceContainer(
  engine: Engine,
  service: string,
  selector: ProjectSelector = {},
): Promise<ServiceStatus> {
  const rows = (await listServices(engine, selector)).filter((r) => r.service === service);
  if (rows.length === 1) return rows[0]!;
  if (rows.length === 0) {
    const where = selector.project || selector.session ? ` in ${describeSelector(selector)}` : "";
    throw new NotFoundError(`No berth service ${service}${where}`, {
      resource: service,
      hint: "`berth ps` lists the environments and their services.",
    });
  }
  throw new ConfigError(
    `Service ${service} exists in several environments: ${[...new Set(rows.map((r) => r.project))].join(", ")}`,
    { resource: service, hint: "Name one with -p PROJECT or --session ID." },
  );
}
