import { defineConfig } from "vitest/config";

// Real-daemon files whose subject is load or a time bound (storms of lifecycles, the reaper's
// "clean within 10 s", the five-service reference stack, validate's storm scenarios). They run
// after the parallel files, one at a time, so that they measure berth and not the rest of the
// suite competing for a 2-core daemon. In the parallel phase they made each other and their
// neighbours fail by timeouts (a SIGTERM arriving before a shell had set its trap, an inspect
// blocked 8 s behind a slow start).
const SERIAL = [
  "test/docker/guard-storm.test.ts",
  "test/docker/proxy-storm.test.ts",
  "test/docker/janitor-reaper.test.ts",
  "test/docker/janitor-reaper-kill.test.ts",
  "test/docker/janitor-reaper-detach.test.ts",
  "test/docker/reference-stack.test.ts",
  "test/docker/validate-quick.test.ts",
];

const docker = {
  environment: "node" as const,
  globalSetup: ["test/docker/global-setup.ts"],
  testTimeout: 120_000,
  hookTimeout: 180_000,
};

// Three projects run in order: `unit` (pure logic, no daemon, runs on every supported Node),
// `docker` (the real daemon, four files at once) and `docker-serial` (the real daemon, one file
// at a time). The docker projects share one global setup that ends the run with the leak check.
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
          ...docker,
          name: "docker",
          // test/consumer: the packed package installed into new projects (Vitest, Jest, node:test,
          // tsc, npx berth), against the same daemon and under the same leak check.
          include: ["test/docker/**/*.test.ts", "test/consumer/**/*.test.ts"],
          exclude: SERIAL,
          sequence: { groupOrder: 1 },
          fileParallelism: true,
          maxWorkers: 4,
        },
      },
      {
        test: {
          ...docker,
          name: "docker-serial",
          include: SERIAL,
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
