// A small but complete validation results document for the report tests: every kind of scenario
// result (pass, fail with expected/actual/hint, skip), figures for every operation, concurrency.
import { RESULTS_SCHEMA, type ScenarioResult, type ValidationResults } from "../../src/validate/model.js";
import { summarize } from "../../src/validate/stats.js";

function scenario(
  partial: Partial<ScenarioResult> & Pick<ScenarioResult, "id" | "category" | "title">,
): ScenarioResult {
  return {
    status: "pass",
    startedAt: "2025-01-01T10:00:01.000Z",
    durationMs: 812,
    evidence: {},
    timings: {},
    ...partial,
  };
}

const ops = (values: number[]) => ({ ...summarize(values), samples: values });

export function sampleResults(overrides: Partial<ValidationResults> = {}): ValidationResults {
  const scenarios: ScenarioResult[] = [
    scenario({
      id: "lifecycle.create-start",
      category: "lifecycle",
      title: "A fixture container is created and started, and runs",
      evidence: { container: "berth-validate-abc-create-1", createMs: 81, state: "running" },
      timings: { start: 312.5 },
    }),
    scenario({
      id: "lifecycle.exit-codes",
      category: "lifecycle",
      title: "Exit codes are reported exactly",
      durationMs: 2345,
      evidence: { "exit 3": 3, SIGKILL: 137, outcomes: ["exited", "killed"], nested: { a: 1 } },
    }),
    scenario({
      id: "rate-limiting.burst-within-limit",
      category: "rate-limiting",
      title: "A burst through the guard stays within its limit",
      status: "fail",
      durationMs: 4830,
      evidence: { mode: "off", maxAtDaemonAtOnce: 16, note: "a | pipe and <b>markup</b>" },
      failure: {
        message: "the limiter is `off`: nothing bounds a burst (16 of 16 calls were at the daemon at once)",
        code: "BERTH_VALIDATE_ASSERTION",
        expected: "a finite limit",
        actual: "mode off, 16 calls at once",
        hint: "Unset BERTH_LIMITER=off.",
      },
    }),
    scenario({
      id: "reference-stack.up-healthy-down",
      category: "reference-stack",
      title: "The five-service stack comes up healthy",
      status: "skip",
      durationMs: 0,
      skipReason: "its images are not built",
    }),
    scenario({
      id: "cleanup.final-leak-count",
      category: "cleanup",
      title: "Nothing the run created is left (leak count 0)",
      durationMs: 40,
      evidence: { leaked: 0, resources: [] },
    }),
  ];
  return {
    schema: RESULTS_SCHEMA,
    berthVersion: "0.1.0",
    runId: "abc12345",
    startedAt: "2025-01-01T10:00:00.000Z",
    finishedAt: "2025-01-01T10:01:05.000Z",
    durationMs: 65_000,
    options: {
      quick: false,
      categories: ["lifecycle", "rate-limiting", "reference-stack", "cleanup"],
      prove: false,
      allowSkips: false,
    },
    machine: {
      hostname: "ci-1",
      os: "Debian GNU/Linux 12 (bookworm)",
      kernel: "6.1.0-18-amd64",
      cpus: 2,
      memoryBytes: 8 * 1024 ** 3,
      node: "v20.11.0",
      dockerHost: "unix:///var/run/docker.sock",
      endpointSource: "the default socket",
      engine: "Docker Engine",
      rootless: false,
      engineVersion: "20.10.24+dfsg1",
      apiVersion: "1.41",
      cgroupVersion: "1",
      cgroupDriver: "cgroupfs",
      storageDriver: "overlay2",
      daemonCpus: 2,
      daemonMemoryBytes: 8 * 1024 ** 3,
      limiter: "adaptive (limit 2..9 during the run)",
    },
    summary: {
      total: 5,
      passed: 3,
      failed: 1,
      skipped: 1,
      successRate: 0.75,
      leaks: 0,
      categories: [
        {
          category: "lifecycle",
          title: "Lifecycle",
          total: 2,
          passed: 2,
          failed: 0,
          skipped: 0,
          passRate: 1,
          durationMs: 3157,
        },
        {
          category: "rate-limiting",
          title: "Rate limiting",
          total: 1,
          passed: 0,
          failed: 1,
          skipped: 0,
          passRate: 0,
          durationMs: 4830,
        },
        {
          category: "reference-stack",
          title: "Reference stack",
          total: 1,
          passed: 0,
          failed: 0,
          skipped: 1,
          passRate: 1,
          durationMs: 0,
        },
        {
          category: "cleanup",
          title: "Cleanup and leaks",
          total: 1,
          passed: 1,
          failed: 0,
          skipped: 0,
          passRate: 1,
          durationMs: 40,
        },
      ],
    },
    scenarios,
    performance: {
      operations: {
        create: ops([78.4, 81.2, 90.1, 120.7, 254.3]),
        start: ops([290.2, 312.5, 330.9, 401.3]),
        gracefulStop: ops([605.6, 640.1, 813.2]),
        safeRemove: ops([670.4, 702.9, 901.8, 1210.5]),
      },
      concurrency: [
        { callers: 8, lifecycles: 24, succeeded: 24, successRate: 1, wallMs: 3512.4, throughput: 6.83 },
        { callers: 32, lifecycles: 64, succeeded: 64, successRate: 1, wallMs: 8650.1, throughput: 7.4 },
      ],
      throughput: 7.4,
      api: {
        "container.create": ops([20.4, 85.1, 90.2, 241.3, 282.2]),
        "container.inspect": ops([1.1, 8.0, 9.1, 70.2, 270.4]),
      },
      limiter: [
        { atMs: 0, limit: 4, inFlight: 0, queued: 0 },
        { atMs: 1200, limit: 6, inFlight: 3, queued: 0 },
        { atMs: 5200, limit: 3, inFlight: 3, queued: 2 },
        { atMs: 9800, limit: 5, inFlight: 0, queued: 0 },
      ],
    },
    leaks: { count: 0, resources: [] },
    ...overrides,
  };
}
