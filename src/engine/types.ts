// berth's own shapes of the Docker Engine API's answers and request bodies: the fields berth
// reads or sends, named as the API names them (so a JSON answer is the value as is). Fields the
// API may leave out, or that only some engines (Podman) send, are optional.

export type Labels = Record<string, string>;
/** The Engine API's `filters` query: `{ label: ["a=b"], name: ["x"] }`. */
export type Filters = Record<string, string[]>;

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

export interface RestartPolicy {
  Name?: string;
  MaximumRetryCount?: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface MountSpec {
  Target: string;
  Source?: string;
  Type: "bind" | "volume" | "tmpfs" | "image" | "npipe";
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Labels;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

export interface HostConfig {
  AutoRemove?: boolean;
  Binds?: string[];
  LogConfig?: { Type: string; Config?: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[]>;
  RestartPolicy?: RestartPolicy;
  VolumesFrom?: string[];
  Mounts?: MountSpec[];
  CapAdd?: string[];
  CapDrop?: string[];
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[];
  GroupAdd?: string[];
  IpcMode?: string;
  Links?: string[];
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[];
  Tmpfs?: Record<string, string>;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Init?: boolean;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  NanoCpus?: number;
  Memory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number;
  OomKillDisable?: boolean;
  PidsLimit?: number;
  Ulimits?: Ulimit[];
  Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  CgroupParent?: string;
  StorageOpt?: Record<string, string>;
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
}

/** The body of `POST /containers/create`, with the container's `name` (sent as the query). */
export interface ContainerCreateSpec {
  name?: string;
  platform?: string;
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string | string[];
  Image?: string;
  Labels?: Labels;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  NetworkDisabled?: boolean;
  ExposedPorts?: Record<string, object>;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: HealthConfig;
  HostConfig?: HostConfig;
  Shell?: string[];
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> };
}

export interface ContainerPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface ContainerMount {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** One entry of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: ContainerPort[];
  Labels: Labels;
  State: string;
  Status: string;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks: Record<string, EndpointSettings> };
  Mounts: ContainerMount[];
}

export interface HealthState {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[] | null;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[];
  Image: string;
  Volumes?: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint?: string | string[] | null;
  Labels: Labels;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: HealthConfig;
}

/** `GET /containers/{id}/json`. */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  ExecIDs?: string[] | null;
  HostConfig: HostConfig;
  Mounts: ContainerMount[];
  Config: ContainerConfig;
  NetworkSettings: {
    Ports: Record<string, PortBinding[] | null>;
    IPAddress: string;
    Gateway: string;
    MacAddress: string;
    Networks: Record<string, EndpointSettings>;
  };
}

export type {
  BuildProgressEvent,
  ContainerStats,
  CpuStats,
  EngineEvent,
  ExecInspect,
  ImageInspect,
  ImageSummary,
  Ipam,
  MemoryStats,
  NetworkContainer,
  NetworkCreateSpec,
  NetworkInspect,
  PullProgressEvent,
  VersionInfo,
  VolumeCreateSpec,
  VolumeInspect,
} from "./resource-types.js";
