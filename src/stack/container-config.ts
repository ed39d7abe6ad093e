// Turns one service of the model into the Engine API's container-create body. Pure: every rule
// (127.0.0.1 by default, dynamic host ports, labelled anonymous volumes, durations in ns) is here
// and unit-tested; the code that talks to the daemon only sends the result.
import type { MemoryHostConfig } from "../memory/limits.js";
import type {
  ContainerOptions,
  FileGrant,
  HealthcheckSpec,
  PortMapping,
  ServiceSpec,
  VolumeMount,
} from "../model/compose.js";
import { DEFAULT_NETWORK } from "./naming.js";
import type { ProjectResources } from "./resources.js";
import { STACK_LABELS } from "./stack-labels.js";

export const DEFAULT_HOST_IP = "127.0.0.1";

interface AttachedNetwork {
  /** The network's name on the daemon. */
  name: string;
  aliases: string[];
  /** A fixed address on this network (`ipv4_address`). */
  ipv4Address?: string;
}

interface ContainerConfigInput {
  name: string;
  image: string;
  /** Ownership labels for the container (the session's, with the service). */
  labels: Record<string, string>;
  /** Labels for the anonymous volumes the daemon creates for the container. */
  volumeLabels: Record<string, string>;
  /** Daemon names of the project's named volumes, by their key in the file. */
  volumeNames: Record<string, string>;
  networks: AttachedNetwork[];
  /** Memory and CPU fields (memoryHostConfig), applied as given. */
  memory: MemoryHostConfig;
  oneShot: boolean;
}

/** The create body, as berth builds it (engine/types.ts's ContainerCreateSpec is what is sent). */
interface ContainerCreateBody {
  name: string;
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  Healthcheck?: Record<string, unknown>;
  StopSignal?: string;
  StopTimeout?: number;
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  Domainname?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  /** Sent as the create call's `platform` query parameter. */
  platform?: string;
  HostConfig: Record<string, unknown>;
  NetworkingConfig?: {
    EndpointsConfig: Record<string, { Aliases: string[]; IPAMConfig?: { IPv4Address: string } }>;
  };
}

/** A file copied into the container after create and before start (secrets and configs). */
export interface CopiedFile {
  target: string;
  source: FileGrant["source"];
  /** Default 0o444. */
  mode: number;
  uid?: string;
  gid?: string;
}

export interface ContainerConfig {
  body: ContainerCreateBody;
  /** Networks beyond the first, connected after create (API 1.41 takes one at create). */
  laterNetworks: AttachedNetwork[];
  /** Secrets and configs that are not a plain bind mount of a file, to copy in before start. */
  copyIn: CopiedFile[];
}

const NS_PER_MS = 1_000_000;

function portKey(port: number, protocol: "tcp" | "udp"): string {
  return `${port}/${protocol}`;
}

export function portBindings(ports: PortMapping[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of ports) {
    const key = portKey(port.target, port.protocol);
    bindings[key] ??= [];
    bindings[key].push({
      HostIp: port.hostIp ?? DEFAULT_HOST_IP,
      HostPort: port.published === undefined ? "" : String(port.published),
    });
  }
  return bindings;
}

export function healthcheckConfig(spec: HealthcheckSpec | undefined): Record<string, unknown> | undefined {
  if (!spec) return undefined;
  if (spec.disable || spec.test[0] === "NONE") return { Test: ["NONE"] };
  const config: Record<string, unknown> = { Test: spec.test };
  if (spec.intervalMs !== undefined) config.Interval = spec.intervalMs * NS_PER_MS;
  if (spec.timeoutMs !== undefined) config.Timeout = spec.timeoutMs * NS_PER_MS;
  if (spec.retries !== undefined) config.Retries = spec.retries;
  if (spec.startPeriodMs !== undefined) config.StartPeriod = spec.startPeriodMs * NS_PER_MS;
  // Daemons before API 1.44 ignore StartInterval; berth's own wait does not depend on it.
  if (spec.startIntervalMs !== undefined) config.StartInterval = spec.startIntervalMs * NS_PER_MS;
  return config;
}

function mountsAndBinds(
  mounts: VolumeMount[],
  input: Pick<ContainerConfigInput, "volumeLabels" | "volumeNames">,
): { Mounts: Record<string, unknown>[]; Binds: string[] } {
  const result = { Mounts: [] as Record<string, unknown>[], Binds: [] as string[] };
  for (const mount of mounts) {
    switch (mount.type) {
      case "volume":
        result.Mounts.push({
          Type: "volume",
          Source: input.volumeNames[mount.source] ?? mount.source,
          Target: mount.target,
          ReadOnly: mount.readOnly,
        });
        break;
      case "anonymous":
        // Labelled, so `down` and the janitor can see them; still removed with the container.
        result.Mounts.push({
          Type: "volume",
          Target: mount.target,
          ReadOnly: mount.readOnly,
          VolumeOptions: { Labels: input.volumeLabels },
        });
        break;
      case "bind":
        // Binds (not Mounts) so a missing host directory is created, as Compose does.
        result.Binds.push(`${mount.source}:${mount.target}${mount.readOnly ? ":ro" : ""}`);
        break;
      case "tmpfs":
        result.Mounts.push({
          Type: "tmpfs",
          Target: mount.target,
          ...(mount.sizeBytes === undefined ? {} : { TmpfsOptions: { SizeBytes: mount.sizeBytes } }),
        });
        break;
    }
  }
  return result;
}

/** HostConfig fields of the container options, each set only when the file sets it. */
function optionsHostConfig(options: ContainerOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  set("Init", options.init);
  set("CapAdd", options.capAdd);
  set("CapDrop", options.capDrop);
  set(
    "Ulimits",
    options.ulimits &&
      Object.entries(options.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard })),
  );
  set("Sysctls", options.sysctls);
  set("ShmSize", options.shmSizeBytes);
  set("ExtraHosts", options.extraHosts);
  set("ReadonlyRootfs", options.readOnly);
  set("SecurityOpt", options.securityOpt);
  set(
    "Devices",
    options.devices?.map((d) => ({
      PathOnHost: d.source,
      PathInContainer: d.target,
      CgroupPermissions: d.permissions,
    })),
  );
  set(
    "LogConfig",
    options.logging && { Type: options.logging.driver ?? "", Config: options.logging.options },
  );
  set("DnsSearch", options.dnsSearch);
  set("DnsOptions", options.dnsOpt);
  set("GroupAdd", options.groupAdd);
  set("PidsLimit", options.pidsLimit);
  set("OomScoreAdj", options.oomScoreAdj);
  set("OomKillDisable", options.oomKillDisable);
  set("IpcMode", options.ipc);
  set("UTSMode", options.uts);
  set("UsernsMode", options.usernsMode);
  set("Runtime", options.runtime);
  set("CgroupParent", options.cgroupParent);
  set("CpuShares", options.cpuShares);
  set("CpusetCpus", options.cpuset);
  set("MemorySwappiness", options.memSwappiness);
  return out;
}

/** The daemon networks a service joins, with its aliases and fixed address. */
export function networksFor(
  service: ServiceSpec,
  resources: Pick<ProjectResources, "networks">,
): AttachedNetwork[] {
  if (service.networks.length === 0) {
    const name = resources.networks[DEFAULT_NETWORK];
    return name ? [{ name, aliases: [service.name] }] : [];
  }
  return service.networks
    .filter((n) => resources.networks[n.name])
    .map((n) => ({
      name: resources.networks[n.name]!,
      aliases: [service.name, ...n.aliases],
      ...(n.ipv4Address ? { ipv4Address: n.ipv4Address } : {}),
    }));
}

/** File-sourced grants without ownership or mode are bind-mounted read-only, as Compose does. */
function isPlainBind(grant: FileGrant): boolean {
  return (
    "file" in grant.source && grant.uid === undefined && grant.gid === undefined && grant.mode === undefined
  );
}

/** The names a service answers to on the project's networks: its own, `container_name`, `hostname`. */
function serviceAliases(service: ServiceSpec, aliases: string[]): string[] {
  const extra = [service.containerName, service.hostname].filter((a): a is string => a !== undefined);
  return [...new Set([...aliases, ...extra])];
}

export function containerConfig(service: ServiceSpec, input: ContainerConfigInput): ContainerConfig {
  const exposed: Record<string, Record<string, never>> = {};
  for (const port of service.ports) exposed[portKey(port.target, port.protocol)] = {};
  for (const port of service.expose) exposed[portKey(port, "tcp")] ??= {};

  const { Mounts, Binds } = mountsAndBinds([...service.volumes, ...service.tmpfs], input);
  const grants = [...(service.secrets ?? []), ...(service.configs ?? [])];
  for (const grant of grants.filter(isPlainBind)) {
    Binds.push(`${(grant.source as { file: string }).file}:${grant.target}:ro`);
  }
  const copyIn: CopiedFile[] = grants
    .filter((grant) => !isPlainBind(grant))
    .map((grant) => ({
      target: grant.target,
      source: grant.source,
      mode: grant.mode ?? 0o444,
      ...(grant.uid === undefined ? {} : { uid: grant.uid }),
      ...(grant.gid === undefined ? {} : { gid: grant.gid }),
    }));
  const hostConfig: Record<string, unknown> = {
    PortBindings: portBindings(service.ports),
    Mounts,
    ...(Binds.length > 0 ? { Binds } : {}),
    ...optionsHostConfig(service.options ?? {}),
    ...input.memory,
    RestartPolicy: {
      Name: service.restart ?? "no",
      ...(service.restartMaxRetries === undefined ? {} : { MaximumRetryCount: service.restartMaxRetries }),
    },
  };
  if (service.dns) hostConfig.Dns = service.dns;
  if (service.privileged) hostConfig.Privileged = true;
  if (service.pid) hostConfig.PidMode = service.pid;

  const [first, ...rest] = input.networks.map((n) => ({ ...n, aliases: serviceAliases(service, n.aliases) }));
  let networking: ContainerCreateBody["NetworkingConfig"];
  if (service.networkMode) {
    hostConfig.NetworkMode = service.networkMode;
  } else if (first) {
    hostConfig.NetworkMode = first.name;
    networking = {
      EndpointsConfig: {
        [first.name]: {
          Aliases: first.aliases,
          ...(first.ipv4Address ? { IPAMConfig: { IPv4Address: first.ipv4Address } } : {}),
        },
      },
    };
  }

  const dependsOn = service.dependsOn.map((d) => d.service).join(",");
  const labels: Record<string, string> = {
    ...service.labels,
    ...input.labels,
    ...(dependsOn ? { [STACK_LABELS.dependsOn]: dependsOn } : {}),
    ...(input.oneShot ? { [STACK_LABELS.oneShot]: "true" } : {}),
  };

  const body: ContainerCreateBody = {
    name: input.name,
    Image: input.image,
    Env: Object.entries(service.environment).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
  if (service.command) body.Cmd = service.command;
  if (service.entrypoint) body.Entrypoint = service.entrypoint;
  const health = healthcheckConfig(service.healthcheck);
  if (health) body.Healthcheck = health;
  if (service.stopSignal) body.StopSignal = service.stopSignal;
  if (service.stopGracePeriodMs !== undefined) body.StopTimeout = Math.ceil(service.stopGracePeriodMs / 1000);
  if (service.workingDir) body.WorkingDir = service.workingDir;
  if (service.user) body.User = service.user;
  if (networking) body.NetworkingConfig = networking;
  const options = service.options ?? {};
  if (service.hostname) body.Hostname = service.hostname;
  if (options.domainname) body.Domainname = options.domainname;
  if (options.tty !== undefined) body.Tty = options.tty;
  if (options.stdinOpen !== undefined) body.OpenStdin = options.stdinOpen;
  if (options.platform) body.platform = options.platform;
  return { body, laterNetworks: service.networkMode ? [] : rest, copyIn };
}
