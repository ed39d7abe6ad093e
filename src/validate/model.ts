// The results of a validation run as written to `--json` and read by `berth report`. Versioned:
// a reader refuses a file whose `schema` it does not know instead of rendering nonsense.
import { z } from "zod";

export const RESULTS_SCHEMA = "berth.validate/v1";

/** What a scenario observed: plain JSON values, rendered as-is in the reports. */
export type EvidenceValue =
  | string
  | number
  | boolean
  | null
  | EvidenceValue[]
  | { [key: string]: EvidenceValue };
export type Evidence = Record<string, EvidenceValue>;

export type ScenarioStatus = "pass" | "fail" | "skip";

/** The operations whose latency the report summarises (client-side, including berth's work). */
export const PERF_OPERATIONS = ["create", "start", "gracefulStop", "safeRemove"] as const;
export type PerfOperation = (typeof PERF_OPERATIONS)[number];

export const PERF_OPERATION_TITLES: Record<PerfOperation, string> = {
  create: "create",
  start: "start",
  gracefulStop: "graceful stop",
  safeRemove: "safe removal",
};

const evidenceValue: z.ZodType<EvidenceValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(evidenceValue),
    z.record(z.string(), evidenceValue),
  ]),
);

const failureSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  expected: evidenceValue.optional(),
  actual: evidenceValue.optional(),
  hint: z.string().optional(),
});

export const scenarioResultSchema = z.object({
  id: z.string(),
  category: z.string(),
  title: z.string(),
  status: z.enum(["pass", "fail", "skip"]),
  startedAt: z.string(),
  durationMs: z.number(),
  evidence: z.record(z.string(), evidenceValue),
  /** Named phases of the scenario and how long each took (ms). */
  timings: z.record(z.string(), z.number()),
  failure: failureSchema.optional(),
  skipReason: z.string().optional(),
});

export const latencySummarySchema = z.object({
  count: z.number(),
  mean: z.number(),
  p50: z.number(),
  p95: z.number(),
  min: z.number(),
  max: z.number(),
});

const operationFiguresSchema = latencySummarySchema.extend({
  /** Every sample (ms), so reports can draw the distribution and compare runs. */
  samples: z.array(z.number()),
});

const concurrencyFigureSchema = z.object({
  callers: z.number(),
  lifecycles: z.number(),
  succeeded: z.number(),
  successRate: z.number(),
  wallMs: z.number(),
  /** Complete create-start-stop-remove lifecycles per second. */
  throughput: z.number(),
});

const categorySummarySchema = z.object({
  category: z.string(),
  title: z.string(),
  total: z.number(),
  passed: z.number(),
  failed: z.number(),
  skipped: z.number(),
  /** passed / (passed + failed); 1 when nothing ran. */
  passRate: z.number(),
  durationMs: z.number(),
});

export const machineSchema = z.object({
  hostname: z.string(),
  os: z.string(),
  kernel: z.string(),
  cpus: z.number(),
  memoryBytes: z.number(),
  node: z.string(),
  dockerHost: z.string(),
  /** Where the endpoint came from: `DOCKER_HOST`, `context ci via DOCKER_CONTEXT`, ... */
  endpointSource: z.string().default("unknown"),
  /** `Docker Engine` or `Podman` (results from before this field were all Docker). */
  engine: z.string().default("Docker Engine"),
  engineVersion: z.string(),
  apiVersion: z.string(),
  cgroupVersion: z.string(),
  cgroupDriver: z.string(),
  storageDriver: z.string(),
  rootless: z.boolean().default(false),
  daemonCpus: z.number(),
  daemonMemoryBytes: z.number(),
  /** The guard's limiter mode the run used. */
  limiter: z.string(),
});

export const resultsSchema = z.object({
  schema: z.literal(RESULTS_SCHEMA),
  berthVersion: z.string(),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  options: z.object({ quick: z.boolean(), categories: z.array(z.string()) }),
  machine: machineSchema,
  summary: z.object({
    total: z.number(),
    passed: z.number(),
    failed: z.number(),
    skipped: z.number(),
    successRate: z.number(),
    leaks: z.number(),
    categories: z.array(categorySummarySchema),
  }),
  scenarios: z.array(scenarioResultSchema),
  performance: z.object({
    operations: z.record(z.string(), operationFiguresSchema),
    concurrency: z.array(concurrencyFigureSchema),
    /** The best lifecycle throughput seen (lifecycles per second), 0 when none ran. */
    throughput: z.number(),
    /** Daemon-side latency of every engine call the run made, per operation. */
    api: z.record(z.string(), latencySummarySchema),
  }),
  leaks: z.object({
    count: z.number(),
    resources: z.array(z.object({ kind: z.string(), name: z.string() })),
  }),
});

export type ScenarioFailure = z.infer<typeof failureSchema>;
export type ScenarioResult = z.infer<typeof scenarioResultSchema>;
export type LatencySummary = z.infer<typeof latencySummarySchema>;
export type OperationFigures = z.infer<typeof operationFiguresSchema>;
export type ConcurrencyFigure = z.infer<typeof concurrencyFigureSchema>;
export type CategorySummary = z.infer<typeof categorySummarySchema>;
export type MachineFacts = z.infer<typeof machineSchema>;
export type ValidationResults = z.infer<typeof resultsSchema>;
