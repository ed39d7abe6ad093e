// The shape of a Compose file after interpolation, as zod schemas. They check types and the
// forms Compose allows (string or list, map or list, short or long syntax); meanings (ports,
// sizes, durations, paths) are parsed afterwards by the normalisers, which know the location.
import * as z from "zod";

/** An error message that tells a missing value from a wrong one. */
function expected(what: string) {
  return {
    error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : `expected ${what}`),
  };
}

const Str = (what = "a string") => z.string(expected(what));
const IntLike = (what = "a whole number") =>
  z.union(
    [
      z.number().int(),
      z
        .string()
        .regex(/^-?\d+$/)
        .transform(Number),
    ],
    expected(what),
  );
const BoolLike = z.union(
  [
    z.boolean(),
    z
      .string()
      .regex(/^(true|false)$/i)
      .transform((v) => v.toLowerCase() === "true"),
  ],
  expected("true or false"),
);
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const SizeLike = z.union([z.string(), z.number()], expected("a size such as 512m or 1g"));
const DurationLike = z.union([z.string(), z.number()], expected("a duration such as 10s or 1m30s"));
const CpusLike = z.union([z.number(), z.string()], expected("a number of CPUs such as 0.5"));
const StringOrList = (what: string) => z.union([z.string(), z.array(z.string())], expected(what));
const MapOrList = (what: string) =>
  z.union([z.record(z.string(), z.union([Scalar, z.null()])), z.array(z.string())], expected(what));
const CommandLike = z.union(
  [z.string(), z.array(z.union([z.string(), z.number()]).transform(String))],
  expected("a command string or a list of arguments"),
);

const UlimitsLike = z.record(
  z.string(),
  z.union([IntLike(), z.object({ soft: IntLike(), hard: IntLike() })], expected("a number or {soft, hard}")),
  expected("a mapping of limit: number or {soft, hard}"),
);
const ExtraHostsLike = z.union(
  [z.array(z.string()), z.record(z.string(), z.union([z.string(), z.array(z.string())]))],
  expected("a list of HOST:ADDRESS or a mapping of host: address"),
);

// Loose objects keep extra keys, so a step naming two kinds is refused as such, not half-read.
const WaitStep = z.union(
  [
    z.literal("healthcheck"),
    z.looseObject({ healthcheck: z.union([z.literal(true), z.null(), z.object({})]) }),
    z.looseObject({ port: IntLike() }),
    z.looseObject({
      log: z.union([z.string(), z.object({ pattern: z.string(), times: IntLike().optional() })]),
    }),
    z.looseObject({
      http: z.union([
        IntLike(),
        z.object({ port: IntLike(), path: z.string().optional(), status: IntLike().optional() }),
      ]),
    }),
    z.looseObject({ command: z.union([z.string(), z.array(z.string())]) }),
  ],
  expected(
    "a wait step: healthcheck, {port: N}, {log: REGEX}, {http: {port, path, status}} or {command: CMD}",
  ),
);

const BerthExtensionSchema = z.object({
  wait: z.union([WaitStep, z.array(WaitStep)]).optional(),
  timeout: DurationLike.optional(),
  allow: z.array(z.string()).optional(),
  reset: z
    .union(
      [z.string(), z.array(z.union([z.string(), z.array(z.string())]))],
      expected('a command or a list of commands, e.g. ["redis-cli FLUSHALL"]'),
    )
    .optional(),
  ignore: z.array(z.string()).optional(),
});

const PortLong = z.object({
  target: IntLike("a container port number"),
  published: z.union([z.string(), z.number()], expected("a host port")).optional(),
  host_ip: Str("a host IP address").optional(),
  protocol: Str("tcp or udp").optional(),
  mode: z.string().optional(),
});

const VolumeLong = z.object({
  type: z.enum(["volume", "bind", "tmpfs"], expected("volume, bind or tmpfs")),
  source: Str("a volume name or host path").optional(),
  target: Str("a path in the container"),
  read_only: BoolLike.optional(),
  tmpfs: z.object({ size: SizeLike.optional() }).optional(),
});

const FileGrantLike = z.union(
  [
    z.string(),
    z.object({
      source: Str("a secret or config name"),
      target: Str("a path").optional(),
      uid: z.union([z.string(), z.number().transform(String)]).optional(),
      gid: z.union([z.string(), z.number().transform(String)]).optional(),
      mode: z.union([z.number(), z.string()], expected("a file mode such as 0440")).optional(),
    }),
  ],
  expected("a name or a mapping with source, target, uid, gid, mode"),
);

const DependencyLong = z
  .object({
    condition: z
      .enum(
        ["service_started", "service_healthy", "service_completed_successfully"],
        expected("service_started, service_healthy or service_completed_successfully"),
      )
      .optional(),
    required: BoolLike.optional(),
    restart: BoolLike.optional(),
  })
  .nullable();

const ServiceSchema = z
  .object({
    image: Str("an image reference").optional(),
    build: z
      .union(
        [
          z.string(),
          z.object({
            context: Str("a directory").optional(),
            dockerfile: Str("a file name").optional(),
            args: MapOrList("a mapping of build arguments or a list of NAME=value").optional(),
            target: Str("a build stage name").optional(),
            dockerfile_inline: Str("the Dockerfile's text").optional(),
            labels: MapOrList("a mapping of labels or a list of name=value").optional(),
            network: Str("default, host or none").optional(),
            shm_size: SizeLike.optional(),
            extra_hosts: ExtraHostsLike.optional(),
            ulimits: UlimitsLike.optional(),
            no_cache: BoolLike.optional(),
            pull: BoolLike.optional(),
            platforms: z.array(z.string(), expected("a list of platforms such as linux/amd64")).optional(),
            tags: z.array(z.string(), expected("a list of image references")).optional(),
          }),
        ],
        expected("a context directory or a mapping with context, dockerfile, args, target"),
      )
      .optional(),
    command: CommandLike.optional(),
    entrypoint: CommandLike.optional(),
    environment: MapOrList("a mapping of NAME: value or a list of NAME=value").optional(),
    env_file: z
      .union(
        [
          z.string(),
          z.array(
            z.union([
              z.string(),
              z.object({ path: z.string(), required: BoolLike.optional(), format: z.string().optional() }),
            ]),
          ),
        ],
        expected("a file path or a list of them"),
      )
      .optional(),
    ports: z
      .array(
        z.union(
          [z.string(), z.number(), PortLong],
          expected('a port such as "8080", "127.0.0.1:8080:80", "53/udp" or a mapping with target'),
        ),
        expected("a list of ports"),
      )
      .optional(),
    expose: z
      .array(z.union([z.string(), z.number()], expected("a port number")), expected("a list of ports"))
      .optional(),
    healthcheck: z
      .object({
        test: StringOrList("a command string or a list starting with CMD, CMD-SHELL or NONE").optional(),
        interval: DurationLike.optional(),
        timeout: DurationLike.optional(),
        retries: IntLike("a number of retries").optional(),
        start_period: DurationLike.optional(),
        start_interval: DurationLike.optional(),
        disable: BoolLike.optional(),
      })
      .optional(),
    depends_on: z
      .union(
        [z.array(z.string()), z.record(z.string(), DependencyLong)],
        expected("a list of services or a mapping of service: {condition}"),
      )
      .optional(),
    mem_limit: SizeLike.optional(),
    mem_reservation: SizeLike.optional(),
    memswap_limit: SizeLike.optional(),
    cpus: CpusLike.optional(),
    deploy: z
      .object({
        replicas: IntLike("a number of replicas").optional(),
        resources: z
          .object({
            limits: z
              .object({ memory: SizeLike.optional(), cpus: CpusLike.optional(), pids: IntLike().optional() })
              .nullish(),
            reservations: z.object({ memory: SizeLike.optional() }).nullish(),
          })
          .nullish(),
      })
      .nullish(),
    stop_signal: Str("a signal name such as SIGTERM").optional(),
    stop_grace_period: DurationLike.optional(),
    restart: Str("no, always, on-failure[:N] or unless-stopped").optional(),
    volumes: z
      .array(
        z.union(
          [z.string(), VolumeLong],
          expected('a mount such as "data:/var/lib/data", "./src:/src:ro" or a mapping'),
        ),
        expected("a list of mounts"),
      )
      .optional(),
    networks: z
      .union(
        [
          z.array(z.string()),
          z.record(
            z.string(),
            z
              .object({
                aliases: z.array(z.string(), expected("a list of names")).optional(),
                ipv4_address: Str("an IPv4 address").optional(),
              })
              .nullable(),
          ),
        ],
        expected("a list of networks or a mapping of network: {aliases}"),
      )
      .optional(),
    labels: MapOrList("a mapping of labels or a list of name=value").optional(),
    working_dir: Str("an absolute path").optional(),
    user: z.union([z.string(), z.number().transform(String)], expected("a user name or id")).optional(),
    tmpfs: StringOrList("a path or a list of paths").optional(),
    profiles: z.array(z.string(), expected("a list of profile names")).optional(),
    privileged: BoolLike.optional(),
    network_mode: Str("host, none, bridge, service:NAME or container:NAME").optional(),
    pid: Str("host or a container reference").optional(),
    dns: StringOrList("an address or a list of addresses").optional(),
    dns_search: StringOrList("a domain or a list of domains").optional(),
    dns_opt: z.array(z.string(), expected("a list of resolver options")).optional(),
    container_name: Str("a container name").optional(),
    hostname: Str("a host name").optional(),
    domainname: Str("a domain name").optional(),
    init: BoolLike.optional(),
    cap_add: z.array(z.string(), expected("a list of capabilities")).optional(),
    cap_drop: z.array(z.string(), expected("a list of capabilities")).optional(),
    ulimits: UlimitsLike.optional(),
    sysctls: MapOrList("a mapping of sysctls or a list of name=value").optional(),
    shm_size: SizeLike.optional(),
    extra_hosts: ExtraHostsLike.optional(),
    read_only: BoolLike.optional(),
    security_opt: z.array(z.string(), expected("a list of security options")).optional(),
    devices: z
      .array(
        z.union([
          z.string(),
          z.object({ source: z.string(), target: z.string().optional(), permissions: z.string().optional() }),
        ]),
        expected('a list of devices such as "/dev/fuse" or "/dev/sda:/dev/xvda:rwm"'),
      )
      .optional(),
    stdin_open: BoolLike.optional(),
    tty: BoolLike.optional(),
    platform: Str("a platform such as linux/amd64").optional(),
    pull_policy: Str("always, never, missing, if_not_present or build").optional(),
    logging: z
      .object({
        driver: Str("a logging driver").optional(),
        options: z.record(z.string(), z.union([Scalar, z.null()])).nullish(),
      })
      .optional(),
    secrets: z.array(FileGrantLike, expected("a list of secrets")).optional(),
    configs: z.array(FileGrantLike, expected("a list of configs")).optional(),
    extends: z
      .union(
        [z.string(), z.object({ service: Str("a service name"), file: Str("a file path").optional() })],
        expected("a service name or {service, file}"),
      )
      .optional(),
    scale: IntLike("a number of replicas").optional(),
    group_add: z
      .array(z.union([z.string(), z.number().transform(String)]), expected("a list of groups"))
      .optional(),
    pids_limit: IntLike().optional(),
    oom_score_adj: IntLike().optional(),
    oom_kill_disable: BoolLike.optional(),
    ipc: Str().optional(),
    uts: Str().optional(),
    userns_mode: Str().optional(),
    runtime: Str().optional(),
    cgroup_parent: Str().optional(),
    cpu_shares: IntLike().optional(),
    cpuset: Str("CPUs such as 0-3 or 0,1").optional(),
    mem_swappiness: IntLike("a number from 0 to 100").optional(),
    "x-berth": BerthExtensionSchema.optional(),
  })
  .catchall(z.unknown());

const ResourceSchema = z
  .object({
    name: Str().optional(),
    external: BoolLike.optional(),
    driver: Str().optional(),
    labels: MapOrList("a mapping of labels or a list of name=value").optional(),
    driver_opts: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
    internal: BoolLike.optional(),
    attachable: BoolLike.optional(),
    ipam: z
      .object({
        driver: Str().optional(),
        config: z
          .array(
            z.object({
              subnet: Str("a subnet such as 172.28.0.0/16").optional(),
              gateway: Str("an address").optional(),
              ip_range: Str("a subnet").optional(),
            }),
          )
          .optional(),
      })
      .optional(),
  })
  .catchall(z.unknown());

const ProvidedSchema = z
  .object({
    name: Str().optional(),
    file: Str("a file path").optional(),
    environment: Str("a variable name").optional(),
    content: Str("the file's content").optional(),
  })
  .catchall(z.unknown());

const IncludeSchema = z.array(
  z.union([
    z.string(),
    z.object({
      path: StringOrList("a file path or a list of them"),
      project_directory: Str("a directory").optional(),
      env_file: StringOrList("a file path or a list of them").optional(),
    }),
  ]),
  expected("a list of files or of {path, project_directory, env_file}"),
);

export const ComposeFileSchema = z
  .object({
    version: z.unknown().optional(),
    name: Str("a project name").optional(),
    services: z.record(z.string(), ServiceSchema.nullable(), expected("a mapping of services")).nullish(),
    networks: z.record(z.string(), ResourceSchema.nullable(), expected("a mapping of networks")).nullish(),
    volumes: z.record(z.string(), ResourceSchema.nullable(), expected("a mapping of volumes")).nullish(),
    secrets: z.record(z.string(), ProvidedSchema, expected("a mapping of secrets")).nullish(),
    configs: z.record(z.string(), ProvidedSchema, expected("a mapping of configs")).nullish(),
    include: IncludeSchema.nullish(),
  })
  .catchall(z.unknown());

export type RawService = z.output<typeof ServiceSchema>;
export type RawResource = z.output<typeof ResourceSchema>;
export type RawProvided = z.output<typeof ProvidedSchema>;
export type RawInclude = z.output<typeof IncludeSchema>;
export type RawBerthExtension = z.output<typeof BerthExtensionSchema>;
