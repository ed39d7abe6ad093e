// The command table: each command's module is imported only when that command runs (or for the
// full help), so `berth ps` does not load Compose parsing and `berth --version` loads nothing.
// Adding a command is one entry here.
import type { Command } from "commander";
import type { GlobalOptions } from "./global-options.js";

type Register = (program: Command, globals: () => GlobalOptions) => void;

export const COMMANDS: Record<string, () => Promise<Register>> = {
  rm: async () => (await import("./commands/rm.js")).registerRm,
  up: async () => (await import("./commands/up.js")).registerUp,
  down: async () => (await import("./commands/down.js")).registerDown,
  pull: async () => (await import("./commands/pull.js")).registerPull,
  ps: async () => (await import("./commands/ps.js")).registerPs,
  ls: async () => (await import("./commands/ls.js")).registerLs,
  logs: async () => (await import("./commands/logs.js")).registerLogs,
  run: async () => (await import("./commands/run.js")).registerRun,
  stats: async () => (await import("./commands/stats.js")).registerStats,
  lint: async () => (await import("./commands/lint.js")).registerLint,
  fixtures: async () => (await import("./commands/fixtures.js")).registerFixtures,
  gc: async () => (await import("./commands/gc.js")).registerGc,
  leaks: async () => (await import("./commands/leaks.js")).registerLeaks,
  proxy: async () => (await import("./commands/proxy.js")).registerProxy,
  validate: async () => (await import("./commands/validate.js")).registerValidate,
  report: async () => (await import("./commands/report.js")).registerReport,
  config: async () => (await import("./commands/config.js")).registerConfig,
  exec: async () => (await import("./commands/exec.js")).registerExec,
  port: async () => (await import("./commands/port.js")).registerPort,
  doctor: async () => (await import("./commands/doctor.js")).registerDoctor,
};

/**
 * The commands to load for these arguments: the one named (the first operand; berth's global
 * options take no values), or all of them for help, no command, or a name commander should
 * answer with "did you mean".
 */
export function commandsFor(args: readonly string[]): string[] {
  const first = args.find((arg) => !arg.startsWith("-"));
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [first];
  return Object.keys(COMMANDS);
}
