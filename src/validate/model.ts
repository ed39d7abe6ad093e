// The results of a validation run as written to `--json` and read by `berth report`. Versioned:
// a reader refuses a file whose `schema` it does not know instead of rendering nonsense.
import * as z from "zod";

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

/** How a scenario did under its fault (`berth validate --prove`). */
const proofSchema = z.object({
  /** What the fault breaks, in words. */
  fault: z.string(),
  kind: z.enum(["relay", "setup"]),
  /** The failure the scenario must give under the fault (a pattern). */
  expected: z.string(),
  status: z.enum(["pass", "fail", "skip"]),
  failure: failureSchema.optional(),
  evidence: z.record(z.string(), evidenceValue),
  durationMs: z.number(),
  /** Passed healthy, and failed under the fault with the expected failure. */
  proven: z.boolean(),
});

const scenarioResultSchema = z.object({
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
  /** Only in a `--prove` run. */
  proof: proofSchema.optional(),
});

const latencySummarySchema = z.object({
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

/** Round trips of one engine operation as berth measured them; older results have no samples. */
const apiFiguresSchema = latencySummarySchema.extend({ samples: z.array(z.number()).default([]) });

/** The guard's lifecycle limit at a moment of the run (ms since the run began). */
const limiterPointSchema = z.object({
  atMs: z.number(),
  /** null when the limiter is off (no limit). */
  limit: z.number().nullable(),
  inFlight: z.number(),
  queued: z.number(),
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

const machineSchema = z.object({
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
  options: z.object({
    quick: z.boolean(),
    categories: z.array(z.string()),
    /** Every scenario was also run under its fault. */
    prove: z.boolean().default(false),
    /** Skipped scenarios do not fail the run. */
    allowSkips: z.boolean().default(false),
  }),
  machine: machineSchema,
  summary: z.object({
    total: z.number(),
    passed: z.number(),
    failed: z.number(),
    skipped: z.number(),
    /** passed / total: a skipped scenario counts against it, as a failed one does. */
    successRate: z.number(),
    leaks: z.number(),
    /** Scenarios shown to fail under their fault (`--prove` runs only). */
    proven: z.number().optional(),
    categories: z.array(categorySummarySchema),
  }),
  scenarios: z.array(scenarioResultSchema),
  performance: z.object({
    operations: z.record(z.string(), operationFiguresSchema),
    concurrency: z.array(concurrencyFigureSchema),
    /** The best lifecycle throughput seen (lifecycles per second), 0 when none ran. */
    throughput: z.number(),
    /**
     * Round trip of every engine call the run made, per operation, measured by berth from the
     * call's dispatch (after the limiter's queue) to the daemon's answer: the client's view.
     */
    api: z.record(z.string(), apiFiguresSchema),
    /** The guard's lifecycle limit over the run: a point whenever the limit or the load changed. */
    limiter: z.array(limiterPointSchema).default([]),
  }),
  leaks: z.object({
    count: z.number(),
    resources: z.array(z.object({ kind: z.string(), name: z.string() })),
  }),
});

export type LimiterPoint = z.infer<typeof limiterPointSchema>;
export type ScenarioProof = z.infer<typeof proofSchema>;
export type ScenarioResult = z.infer<typeof scenarioResultSchema>;
export type LatencySummary = z.infer<typeof latencySummarySchema>;
export type ConcurrencyFigure = z.infer<typeof concurrencyFigureSchema>;
export type CategorySummary = z.infer<typeof categorySummarySchema>;
export type MachineFacts = z.infer<typeof machineSchema>;
export type ValidationResults = z.infer<typeof resultsSchema>;

/**
 * PASS: nothing failed or leaked, nothing was skipped (unless the run allowed skips), and in a
 * `--prove` run every scenario that ran was shown to fail under its fault.
 */
export function verdictOf(results: ValidationResults): "PASS" | "FAIL" {
  const { summary, options } = results;
  if (summary.failed > 0 || results.leaks.count > 0) return "FAIL";
  if (summary.skipped > 0 && !options.allowSkips) return "FAIL";
  if (options.prove && (summary.proven ?? 0) < summary.passed) return "FAIL";
  return "PASS";
}
