// berth's own shapes of the Engine API's networks, volumes, images, stats, system answers and
// progress streams (the container shapes are in types.ts, which re-exports these).
import type { HealthConfig, Labels } from "./types.js";

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
