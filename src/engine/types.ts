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

export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export interface Ipam {
  Driver?: string;
  Options?: Record<string, string> | null;
  Config?: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Labels }[] | null;
}

/** `GET /networks/{id}` and the entries of `GET /networks`. */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM?: Ipam;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  Containers?: Record<string, NetworkContainer>;
  Options?: Record<string, string> | null;
  Labels?: Labels | null;
}

/** The body of `POST /networks/create`. */
export interface NetworkCreateSpec {
  Name: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  EnableIPv6?: boolean;
  IPAM?: Ipam;
  Internal?: boolean;
  Attachable?: boolean;
  Options?: Record<string, string>;
  Labels?: Labels;
}

/** `GET /volumes/{name}` and the entries of `GET /volumes`. */
export interface VolumeInspect {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, string>;
  Labels: Labels | null;
  Scope: string;
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface VolumeCreateSpec {
  Name?: string;
  Labels?: Labels;
  Driver?: string;
  DriverOpts?: Record<string, string>;
}

/** One entry of `GET /images/json`. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Labels | null;
  Containers: number;
}

/** `GET /images/{name}/json`. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Author: string;
  Config: {
    User?: string;
    ExposedPorts?: Record<string, object> | null;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    Volumes?: Record<string, object> | null;
    Labels?: Labels | null;
    StopSignal?: string;
    Healthcheck?: HealthConfig;
  };
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  RootFS: { Type: string; Layers?: string[] };
}

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  limit?: number;
  failcnt?: number;
  /** cgroup v1 and v2 keys (`cache`, `total_inactive_file`, `inactive_file`, `anon`, ...). */
  stats?: Record<string, number>;
}

export interface CpuStats {
  cpu_usage: {
    total_usage: number;
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data?: { periods: number; throttled_periods: number; throttled_time: number };
}

/** `GET /containers/{id}/stats`. */
export interface ContainerStats {
  read: string;
  preread: string;
  pids_stats?: { current?: number; limit?: number };
  num_procs?: number;
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  memory_stats: MemoryStats;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
}

/** `GET /version`. */
export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
  Platform?: { Name: string };
  Components?: { Name: string; Version: string; Details?: Record<string, string> }[];
}

/** One line of `GET /events`. */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  /** Podman and older daemons: the container id and image of container events. */
  id?: string;
  status?: string;
  from?: string;
  scope?: string;
  time: number;
  timeNano: number;
}

/** `GET /exec/{id}/json`. */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ContainerID: string;
  Pid: number;
}

/** One JSON line of `POST /images/create` (pull) or `/images/load`/`import`. */
export interface PullProgressEvent {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

/** One JSON line of `POST /build`. */
export interface BuildProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: { ID?: string };
}
