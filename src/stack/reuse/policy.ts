// Whether an `up` reuses: the caller's `reuse` option, else BERTH_REUSE, else the files'
// `x-berth.reuse`; off by default. On CI (the `CI` variable set) reuse stays off unless
// BERTH_REUSE=force, because a CI job should start from nothing; the decision says why.
import type { ComposeProject } from "../../model/compose.js";

interface ReuseDecision {
  enabled: boolean;
  /** Shown as a warning when reuse was asked for but is off. */
  note?: string;
}

const ON = /^(1|true|yes|on|force)$/i;
const OFF = /^(0|false|no|off)$/i;

function isCi(env: Record<string, string | undefined>): boolean {
  const value = env.CI?.trim();
  return value !== undefined && value !== "" && !OFF.test(value);
}

export function reuseDecision(
  option: boolean | undefined,
  project: Pick<ComposeProject, "reuse">,
  env: Record<string, string | undefined> = process.env,
): ReuseDecision {
  const variable = env.BERTH_REUSE?.trim() ?? "";
  const fromEnv = ON.test(variable) ? true : OFF.test(variable) ? false : undefined;
  const asked = option ?? fromEnv ?? project.reuse?.enabled ?? false;
  if (!asked) return { enabled: false };
  if (isCi(env) && variable.toLowerCase() !== "force") {
    return {
      enabled: false,
      note: "Reuse is off because CI is set: every CI run starts a fresh environment (BERTH_REUSE=force reuses anyway)",
    };
  }
  return { enabled: true };
}
