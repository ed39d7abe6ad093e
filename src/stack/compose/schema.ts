// The shape of a Compose file after interpolation, as zod schemas. They check types and the
// forms Compose allows (string or list, map or list, short or long syntax); meanings (ports,
// sizes, durations, paths) are parsed afterwards by the normalisers, which know the location.
import { z } from "zod";

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

export const BerthExtensionSchema = z.object({
  wait: z.union([WaitStep, z.array(WaitStep)]).optional(),
  timeout: DurationLike.optional(),
  allow: z.array(z.string()).optional(),
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

export const ServiceSchema = z
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
        resources: z
          .object({
            limits: z.object({ memory: SizeLike.optional(), cpus: CpusLike.optional() }).nullish(),
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
            z.object({ aliases: z.array(z.string(), expected("a list of names")).optional() }).nullable(),
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
    pull_policy: Str("always, missing, never or build").optional(),
    network_mode: Str("host, none, bridge, service:NAME or container:NAME").optional(),
    pid: Str("host or a container reference").optional(),
    dns: StringOrList("an address or a list of addresses").optional(),
    "x-berth": BerthExtensionSchema.optional(),
  })
  .catchall(z.unknown());

const ResourceSchema = z
  .object({
    name: Str().optional(),
    external: BoolLike.optional(),
    driver: Str().optional(),
    labels: MapOrList("a mapping of labels or a list of name=value").optional(),
  })
  .catchall(z.unknown());

export const ComposeFileSchema = z
  .object({
    version: z.unknown().optional(),
    name: Str("a project name").optional(),
    services: z.record(z.string(), ServiceSchema.nullable(), expected("a mapping of services")).nullish(),
    networks: z.record(z.string(), ResourceSchema.nullable(), expected("a mapping of networks")).nullish(),
    volumes: z.record(z.string(), ResourceSchema.nullable(), expected("a mapping of volumes")).nullish(),
  })
  .catchall(z.unknown());

export type RawComposeFile = z.output<typeof ComposeFileSchema>;
export type RawService = z.output<typeof ServiceSchema>;
export type RawResource = z.output<typeof ResourceSchema>;
export type RawBerthExtension = z.output<typeof BerthExtensionSchema>;
