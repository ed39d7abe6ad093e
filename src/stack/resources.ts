// A project's networks and named volumes: created labelled before any container, named from the
// project so concurrent runs never share one. External ones must already exist.
import type { Engine } from "../engine/engine.js";
import { ConfigError, ConflictError, NotFoundError } from "../engine/errors.js";
import { createNetworkWithRecovery, isAddressPoolExhausted } from "../janitor/address-pools.js";
import { claimPoolNetwork, type NetworkPoolConfig } from "../janitor/network-pool.js";
import type { Session } from "../janitor/session.js";
import { NameConflictError } from "../lifecycle/create-container.js";
import type { ComposeProject, NetworkSpec } from "../model/compose.js";
import { LABELS } from "../model/labels.js";
import { isReclaimable } from "../model/ownership.js";
import { DEFAULT_NETWORK, networkNameFor, volumeNameFor } from "./naming.js";
import type { ProgressListener } from "./progress/events.js";
import { STACK_LABELS } from "./stack-labels.js";

export interface ProjectResources {
  /** Daemon names by network key. */
  networks: Record<string, string>;
  /** Daemon names by named-volume key. */
  volumes: Record<string, string>;
  /** A network was claimed from the pool and left it empty: refill it once the up is done. */
  poolEmptied?: boolean;
}

interface NetworkSpecForCreate {
  Name: string;
  Driver: string;
  Labels: Record<string, string>;
  CheckDuplicate: boolean;
  Internal?: boolean;
  Attachable?: boolean;
  Options?: Record<string, string>;
  IPAM?: { Driver: string; Config: { Subnet?: string; Gateway?: string; IPRange?: string }[] };
}

/** The create body of one of the project's networks (pure). */
export function networkCreateSpec(
  name: string,
  spec: NetworkSpec | undefined,
  labels: Record<string, string>,
): NetworkSpecForCreate {
  const out: NetworkSpecForCreate = {
    Name: name,
    Driver: spec?.driver ?? "bridge",
    Labels: { ...spec?.labels, ...labels },
    CheckDuplicate: true,
  };
  if (spec?.internal !== undefined) out.Internal = spec.internal;
  if (spec?.attachable !== undefined) out.Attachable = spec.attachable;
  if (spec?.driverOpts) out.Options = spec.driverOpts;
  if (spec?.ipam) {
    out.IPAM = {
      Driver: spec.ipam.driver ?? "default",
      Config: spec.ipam.config.map((c) => ({
        ...(c.subnet ? { Subnet: c.subnet } : {}),
        ...(c.gateway ? { Gateway: c.gateway } : {}),
        ...(c.ipRange ? { IPRange: c.ipRange } : {}),
      })),
    };
  }
  return out;
}

/** The networks the services use (`default` when a service names none). */
function usedNetworks(project: ComposeProject): Set<string> {
  const used = new Set<string>();
  for (const service of Object.values(project.services)) {
    if (service.networkMode) continue;
    if (service.networks.length === 0) used.add(DEFAULT_NETWORK);
    for (const network of service.networks) used.add(network.name);
  }
  return used;
}

/**
 * A network the pool can serve: a plain bridge network with nothing the file sets (driver options,
 * addresses, labels, a name of its own), which only its containers' aliases tell apart.
 */
export function isPoolable(key: string, spec: NetworkSpec | undefined): boolean {
  if (!spec) return true;
  return (
    !spec.external &&
    spec.name === key &&
    (spec.driver === undefined || spec.driver === "bridge") &&
    Object.keys(spec.labels).length === 0 &&
    spec.driverOpts === undefined &&
    spec.internal === undefined &&
    spec.attachable === undefined &&
    spec.ipam === undefined
  );
}

function usedVolumes(project: ComposeProject): Set<string> {
  const used = new Set<string>();
  for (const service of Object.values(project.services)) {
    for (const mount of service.volumes) if (mount.type === "volume") used.add(mount.source);
  }
  return used;
}

async function findNetworkByName(engine: Engine, name: string) {
  const found = await engine.listNetworks({ name: [name] });
  return found.find((n) => n.Name === name);
}

async function createNetwork(engine: Engine, session: Session, spec: NetworkSpecForCreate): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      // Exhausted address pools (leftovers of crashed runs) are reclaimed and the create retried.
      await createNetworkWithRecovery(engine, spec);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 2) throw error;
    }
    const holder = await findNetworkByName(engine, spec.Name);
    if (!holder) continue;
    const labels = holder.Labels ?? {};
    if (labels[LABELS.session] === session.id) return;
    if (
      !labels[LABELS.session] ||
      !isReclaimable(labels) ||
      Object.keys(holder.Containers ?? {}).length > 0
    ) {
      throw new NameConflictError(
        "network",
        spec.Name,
        labels[LABELS.session]
          ? `network ${holder.Id.slice(0, 12)} of berth project ${labels[LABELS.project] ?? "?"}, session ${labels[LABELS.session]}`
          : `network ${holder.Id.slice(0, 12)}, not created by berth`,
        "Take that environment down (`berth down -p PROJECT`) or choose another project name (-p).",
      );
    }
    await engine.removeNetwork(holder.Id).catch((e: unknown) => {
      if (!(e instanceof NotFoundError)) throw e;
    });
  }
}

export async function createProjectResources(
  engine: Engine,
  session: Session,
  project: ComposeProject,
  onProgress?: ProgressListener,
  pool?: NetworkPoolConfig,
): Promise<ProjectResources> {
  const resources: ProjectResources = { networks: {}, volumes: {} };
  await Promise.all(
    [...usedNetworks(project)].map(async (key) => {
      const spec = project.networks[key];
      if (spec?.external) {
        if (!(await findNetworkByName(engine, spec.name))) {
          throw new ConfigError(`External network ${spec.name} (networks.${key}) does not exist`, {
            resource: spec.name,
            hint: `Create it first (docker network create ${spec.name}) or drop \`external: true\`.`,
          });
        }
        resources.networks[key] = spec.name;
        return;
      }
      await session.beforeCreate();
      // Exhausted address pools: the project's own network below, whose recovery drains the pool.
      const claimed =
        pool?.enabled && isPoolable(key, spec)
          ? await claimPoolNetwork(engine, { session: session.id, project: session.project }, pool).catch(
              (error: unknown) => {
                if (isAddressPoolExhausted(error)) return undefined;
                throw error;
              },
            )
          : undefined;
      if (claimed) {
        resources.networks[key] = claimed.name;
        if (claimed.remaining === 0) resources.poolEmptied = true;
        onProgress?.({
          type: "resource",
          kind: "network",
          name: claimed.name,
          action: claimed.fromPool ? "claimed" : "created",
        });
        return;
      }
      const name = networkNameFor(session.project, key);
      await createNetwork(
        engine,
        session,
        networkCreateSpec(name, spec, { ...session.labels(), [STACK_LABELS.key]: key }),
      );
      resources.networks[key] = name;
      onProgress?.({ type: "resource", kind: "network", name, action: "created" });
    }),
  );
  await Promise.all(
    [...usedVolumes(project)].map(async (key) => {
      const spec = project.volumes[key];
      if (spec?.external) {
        const exists = await engine.inspectVolume(spec.name).catch(() => undefined);
        if (!exists) {
          throw new ConfigError(`External volume ${spec.name} (volumes.${key}) does not exist`, {
            resource: spec.name,
            hint: `Create it first (docker volume create ${spec.name}) or drop \`external: true\`.`,
          });
        }
        resources.volumes[key] = spec.name;
        return;
      }
      const name = volumeNameFor(session.project, key);
      resources.volumes[key] = name;
      // A named volume outlives `down` unless asked: with a fixed project name it is reused.
      if (await engine.inspectVolume(name).catch(() => undefined)) return;
      await session.beforeCreate();
      await engine.createVolume({
        Name: name,
        ...(spec?.driver ? { Driver: spec.driver } : {}),
        ...(spec?.driverOpts ? { DriverOpts: spec.driverOpts } : {}),
        Labels: {
          ...spec?.labels,
          ...session.labels(),
          [STACK_LABELS.volumeKind]: "named",
          [STACK_LABELS.key]: key,
        },
      });
      onProgress?.({ type: "resource", kind: "volume", name, action: "created" });
    }),
  );
  return resources;
}
