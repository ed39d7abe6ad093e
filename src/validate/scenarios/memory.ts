// Memory: limits from a Compose file are applied exactly (swap not silently doubled) and seen by
// the kernel inside the container; an OOM kill is detected and reported as one; usage is sampled
// against the limit.

import { ConfigError } from "../../engine/errors.js";
import { engineIdentity } from "../../engine/identity.js";
import { OomKilledError } from "../../memory/errors.js";
import { formatSize } from "../../memory/size.js";
import { sampleStats } from "../../memory/stats.js";
import type { UpOptions } from "../../stack/up.js";
import { inspectRewrite } from "../faults.js";
import type { Category, ScenarioContext } from "../scenario.js";
import { check, checkEqual, relayFault, ScenarioSkipped, scenarioIn, setupFault } from "../scenario.js";
import { checkNothingLeft, composeFile, firstLine, upCompose, upFails } from "./stack-support.js";

const C = "memory";
const scenario = scenarioIn(C);
const MiB = 1024 * 1024;
const SLEEPER = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;

/** Brings up one sleeping service `app` with the Compose `keys` given; answers its container. */
async function upSleeper(
  ctx: ScenarioContext,
  prefix: string,
  keys: string,
  options: Partial<UpOptions> = {},
) {
  const run = composeFile(
    ctx,
    prefix,
    `services:\n  app:\n    image: __IMAGE__\n    command: ${SLEEPER}\n${keys}`,
  );
  const env = await upCompose(ctx, run, options);
  const id = env.service("app").containerId;
  return { id, info: await ctx.engine.inspectContainer(id) };
}

const limitApplied = scenario("limit-applied", {
  title: "mem_limit is applied exactly and the kernel enforces it inside the container",
  quick: true,
  fault: relayFault(
    "the daemon reports HostConfig.Memory as 128 MiB instead of the 64 MiB asked",
    /HostConfig\.Memory: expected 67108864, got 134217728|64 MiB|memory limit/i,
    [
      inspectRewrite((info) => {
        info.HostConfig.Memory = 128 * MiB;
      }),
    ],
  ),
  async run(ctx) {
    const { id, info } = await upSleeper(ctx, "mem", `    mem_limit: 64m\n`);
    checkEqual(info.HostConfig.Memory ?? null, 64 * MiB, "HostConfig.Memory");
    const cgroup = await ctx.engine.exec(id, [
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
    ]);
    checkEqual(cgroup.stdout.trim(), String(64 * MiB), "limit seen in the container's cgroup");
    return {
      asked: "64m",
      applied: formatSize(info.HostConfig.Memory ?? 0),
      cgroupLimit: cgroup.stdout.trim(),
    };
  },
});

const swapNotDoubled = scenario("swap-not-doubled", {
  title: "Without memswap_limit, swap is not silently doubled (MemorySwap equals Memory)",
  quick: true,
  fault: relayFault(
    "the daemon reports MemorySwap as twice the memory limit (swap silently doubled)",
    /HostConfig\.MemorySwap: expected 50331648, got 100663296|swap/i,
    [
      inspectRewrite((info) => {
        info.HostConfig.MemorySwap = 2 * info.HostConfig.Memory;
      }),
    ],
  ),
  async run(ctx) {
    const { info } = await upSleeper(ctx, "swap", `    mem_limit: 48m\n`);
    checkEqual(info.HostConfig.MemorySwap ?? null, info.HostConfig.Memory ?? null, "HostConfig.MemorySwap");
    return {
      memory: formatSize(info.HostConfig.Memory ?? 0),
      memorySwap: formatSize(info.HostConfig.MemorySwap ?? 0),
    };
  },
});

const swapExplicit = scenario("memswap-explicit", {
  title: "An explicit memswap_limit is applied as written",
  fault: relayFault(
    "the daemon reports MemorySwap as unlimited (-1)",
    /HostConfig\.MemorySwap: expected 100663296, got -1|swap/i,
    [
      inspectRewrite((info) => {
        info.HostConfig.MemorySwap = -1;
      }),
    ],
  ),
  async run(ctx) {
    const { info } = await upSleeper(ctx, "memswap", `    mem_limit: 32m\n    memswap_limit: 96m\n`);
    checkEqual(info.HostConfig.Memory ?? null, 32 * MiB, "HostConfig.Memory");
    checkEqual(info.HostConfig.MemorySwap ?? null, 96 * MiB, "HostConfig.MemorySwap");
    return { memory: "32 MiB", memorySwap: formatSize(info.HostConfig.MemorySwap ?? 0) };
  },
});

const defaultLimit = scenario("default-limit", {
  title: "A service without a limit gets the configured default limit",
  fault: setupFault(
    "berth configured without its default memory limit",
    /HostConfig\.Memory from the default: expected 83886080/,
  ),
  async run(ctx) {
    const { info } = await upSleeper(ctx, "memdefault", ``, ctx.faulted ? {} : { defaultMemory: "80m" });
    checkEqual(info.HostConfig.Memory ?? null, 80 * MiB, "HostConfig.Memory from the default");
    return { defaultMemory: "80m", applied: formatSize(info.HostConfig.Memory ?? 0) };
  },
});

const oomDetected = scenario("oom-detected", {
  title: "An OOM kill is detected and reported as one, naming the service and its limit",
  quick: true,
  fault: relayFault(
    "the daemon loses the OOMKilled flag and drops its oom events",
    /up failed, but not as an OOM kill/,
    [
      inspectRewrite((info) => {
        info.State.OOMKilled = false;
      }),
      {
        method: "GET",
        path: /^\/events/,
        keepLine: (event) => event?.Action !== "oom" && event?.status !== "oom",
      },
    ],
  ),
  async run(ctx) {
    // `tail` buffers an endless line from /dev/zero until the kernel kills it at the limit.
    const run = composeFile(
      ctx,
      "oom",
      `services:\n  hog:\n    image: __IMAGE__\n    command: ["sh", "-c", "echo allocating; tail /dev/zero"]\n    mem_limit: 16m\n    x-berth:\n      wait:\n        - log: never-ready\n`,
    );
    const error = await upFails(ctx, run, "up of a service that allocates past its limit");
    const engine = await engineIdentity(ctx.engine);
    if (engine.kind === "podman" && !(error instanceof OomKilledError)) {
      // Podman records no OOMKilled flag and sends no oom event here: berth says what it can.
      const message = String((error as Error)?.message ?? error);
      check(
        /most likely the kernel OOM killer/.test(message) && /16 MiB/.test(message),
        "the failure does not name a probable OOM kill at 16 MiB",
        { actual: message.split("\n").slice(0, 3).join(" | ") },
      );
      await checkNothingLeft(ctx, run.project);
      throw new ScenarioSkipped(
        `${engine.name} ${engine.version} reports no OOM kill (State.OOMKilled stays false, no oom event); berth reported exit 137 under the 16 MiB limit as a probable OOM kill instead`,
      );
    }
    check(error instanceof OomKilledError, `up failed, but not as an OOM kill: ${firstLine(error)}`, {
      expected: "OomKilledError",
      actual: (error as Error).name,
    });
    const oom = error as OomKilledError;
    checkEqual(oom.service, "hog", "service named");
    checkEqual(oom.limitBytes ?? null, 16 * MiB, "limit named");
    check(
      /OOM killer/.test(oom.message) && /16 MiB/.test(oom.message),
      "the message does not say OOM kill at 16 MiB",
      {
        actual: firstLine(oom),
      },
    );
    await checkNothingLeft(ctx, run.project);
    return {
      error: oom.code,
      message: oom.summary,
      exitCode: oom.containerExitCode ?? null,
      logTail: oom.logsTail,
    };
  },
});

const usageSampled = scenario("usage-sampled", {
  title: "Memory usage is sampled against the limit (page cache not counted)",
  fault: relayFault(
    "the daemon reports no inactive page cache, so the cache would count as usage",
    /page cache was counted as usage/,
    [
      {
        method: "GET",
        path: /^\/containers\/[^/]+\/stats/,
        json: (stats) => {
          for (const key of ["inactive_file", "total_inactive_file"])
            if (stats?.memory_stats?.stats?.[key] !== undefined) stats.memory_stats.stats[key] = 0;
          return stats;
        },
      },
    ],
  ),
  async run(ctx) {
    // 24 MiB in /dev/shm is memory the container really holds; 32 MiB written to a file and read
    // back is page cache the kernel can drop, which must not count.
    const run = composeFile(
      ctx,
      "usage",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "head -c 25165824 /dev/zero > /dev/shm/fill; head -c 33554432 /dev/zero > /cache; cat /cache > /dev/null; echo filled; trap 'exit 0' TERM; sleep 3600 & wait"]\n    mem_limit: 96m\n    x-berth:\n      wait:\n        - log: filled\n`,
    );
    const env = await upCompose(ctx, run);
    const app = env.service("app");
    const [usage] = await sampleStats(ctx.engine, [
      { id: app.containerId, name: app.containerName, service: "app" },
    ]);
    check(usage, "no stats sample for the running container");
    checkEqual(usage.limitBytes ?? null, 96 * MiB, "limit in the sample");
    check(
      usage.usageBytes >= 24 * MiB,
      `usage ${formatSize(usage.usageBytes)} is below the 24 MiB the container holds`,
      {
        expected: ">= 24 MiB",
        actual: formatSize(usage.usageBytes),
      },
    );
    // Held: 24 MiB; with the 32 MiB of cache it would be 56 MiB. Half the cache is the margin.
    check(
      usage.usageBytes < 40 * MiB,
      `usage ${formatSize(usage.usageBytes)}: the page cache was counted as usage`,
      {
        expected: "< 40 MiB (24 MiB held, 32 MiB of page cache not counted)",
        actual: formatSize(usage.usageBytes),
      },
    );
    return {
      usage: formatSize(usage.usageBytes),
      limit: formatSize(usage.limitBytes ?? 0),
      percent: Math.round(usage.percent ?? 0),
      peak: usage.peakBytes === undefined ? "not reported" : formatSize(usage.peakBytes),
    };
  },
});

const belowMinimum = scenario("below-minimum-refused", {
  title: "A limit below Docker's 6 MiB minimum is refused before anything is created",
  fault: setupFault(
    "the file asks for 8m, above the minimum, so nothing refuses it",
    /up with mem_limit \S+: expected an error, but the call succeeded/,
  ),
  async run(ctx) {
    const limit = ctx.faulted ? "8m" : "2m";
    const run = composeFile(
      ctx,
      "tiny",
      `services:\n  app:\n    image: __IMAGE__\n    command: ${SLEEPER}\n    mem_limit: ${limit}\n`,
    );
    const error = await upFails(ctx, run, `up with mem_limit ${limit}`);
    check(error instanceof ConfigError, `the error is not a configuration error: ${firstLine(error)}`, {
      actual: (error as Error).name,
    });
    check(/6 MiB|6m/i.test((error as Error).message), "the message does not name Docker's minimum", {
      actual: firstLine(error),
    });
    await checkNothingLeft(ctx, run.project);
    return {
      error: (error as ConfigError).code,
      message: firstLine(error),
      exitCode: (error as ConfigError).exitCode,
    };
  },
});

export const memory: Category = {
  id: C,
  title: "Memory",
  scenarios: [
    limitApplied,
    swapNotDoubled,
    swapExplicit,
    defaultLimit,
    oomDetected,
    usageSampled,
    belowMinimum,
  ],
};
