import { defineConfig } from "vitest/config";

// Real-daemon test files that failed or timed out in the last full run on an overloaded machine
// and are not yet proven on a quiet one. They run only with BERTH_TEST_QUARANTINED=1 until a
// session has seen them pass in CI; each stays listed in the open issue it belongs to.
const QUARANTINED = [
  "test/docker/reference-stack.test.ts",
  "test/docker/janitor-reaper.test.ts",
  "test/docker/janitor-reaper-kill.test.ts",
  "test/docker/janitor-reaper-detach.test.ts",
  "test/docker/proxy-storm.test.ts",
  "test/docker/proxy-compose.test.ts",
];
const quarantine = process.env.BERTH_TEST_QUARANTINED === "1" ? [] : QUARANTINED;

// Two projects: `unit` (pure logic, no daemon, runs on every supported Node) and `docker`
// (the real daemon). The docker project ends with the suite's leak check (test/leak-check.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          sequence: { groupOrder: 0 },
          environment: "node",
        },
      },
      {
        test: {
          name: "docker",
          include: ["test/docker/**/*.test.ts"],
          exclude: quarantine,
          sequence: { groupOrder: 1 },
          environment: "node",
          globalSetup: ["test/docker/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: true,
          maxWorkers: 4,
        },
      },
    ],
  },
});
