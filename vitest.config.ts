import { defineConfig } from "vitest/config";

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
