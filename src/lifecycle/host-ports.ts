// Fixed host ports: checked before anything is created, and explained when taken (by which
// container, if it is one), so a conflict is an error a person can act on.
import { createServer } from "node:net";
import type { Engine } from "../engine/engine.js";
import { BerthError } from "../engine/errors.js";
import { containerName } from "../model/container-name.js";
import { LABELS } from "../model/labels.js";

export class PortTakenError extends BerthError {
  override readonly code = "BERTH_PORT_TAKEN";
  readonly port: number;
  readonly holder: string | undefined;
  constructor(port: number, host: string, holder: string | undefined, service?: string) {
    super(
      `Host port ${host}:${port}${service ? ` (service ${service})` : ""} is already taken${holder ? ` by ${holder}` : " by a process on the host"}`,
      {
        resource: `${host}:${port}`,
        hint: holder
          ? "Stop that container, or leave the host port out of the file so the daemon picks a free one."
          : "Free the port, or leave the host port out of the file so the daemon picks a free one.",
      },
    );
    this.port = port;
    this.holder = holder;
  }
}

/** True when the host address can be bound now (nothing listens on it). */
export function isHostPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Names the container that publishes a host port, if one does. */
export async function findPortHolder(engine: Engine, port: number): Promise<string | undefined> {
  // Filtered here, not with the API's `publish` filter: Podman's compat API refuses that filter.
  const containers = await engine.listContainers({ all: false });
  const holder = containers.find((c) => (c.Ports ?? []).some((p) => p.PublicPort === port));
  if (!holder) return undefined;
  const name = containerName(holder);
  const labels = holder.Labels ?? {};
  const project = labels[LABELS.project];
  return `container ${name}${project ? ` (berth project ${project}, service ${labels[LABELS.service] ?? "?"})` : ""}`;
}

/** True for the daemon's ways of saying a host port is taken. */
export function isPortTakenMessage(message: string): boolean {
  return /port is already allocated|address already in use/i.test(message);
}

/** Extracts the port from the daemon's port-taken message (`...0.0.0.0:5432 failed: port is already allocated`). */
export function portFromMessage(message: string): number | undefined {
  const match = /:(\d+)(?: failed)?: (?:port is already allocated|bind: address already in use)/i.exec(
    message,
  );
  return match ? Number(match[1]) : undefined;
}
