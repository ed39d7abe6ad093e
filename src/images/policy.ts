// Compose's `pull_policy` and `up --pull`: when an image is pulled. Pure.
//   missing (default): pull only when the daemon does not have it
//   always: pull every time (a present image is refreshed; the registry decides if anything moves)
//   never: never pull; a missing image is an ImageMissingError
//   build: the service is built from its `build` section, never pulled
import { ConfigError } from "../engine/errors.js";

export type PullPolicy = "missing" | "always" | "never" | "build";
export const PULL_POLICIES: readonly PullPolicy[] = ["missing", "always", "never", "build"];
export const DEFAULT_PULL_POLICY: PullPolicy = "missing";

/** Compose's spellings: `if_not_present` is `missing`. */
const ALIASES: Record<string, PullPolicy> = { if_not_present: "missing" };

/** The policy a value names, or undefined when it names none. */
export function pullPolicyOf(value: string): PullPolicy | undefined {
  const v = value.trim().toLowerCase();
  return (PULL_POLICIES as readonly string[]).includes(v) ? (v as PullPolicy) : ALIASES[v];
}

/** Reads `--pull` (or the library's `pull`): a policy name; `true` is `always`, `false` is `never`. */
export function parsePullOption(value: string | boolean, where = "--pull"): Exclude<PullPolicy, "build"> {
  if (value === true) return "always";
  if (value === false) return "never";
  const policy = pullPolicyOf(value);
  if (!policy || policy === "build") {
    throw new ConfigError(
      `Expected \`${where}\` to be one of \`always\`, \`missing\`, \`never\`, got \`${value}\``,
      {
        resource: where,
      },
    );
  }
  return policy;
}

type PullAction = "pull" | "use-local" | "missing";

/** What to do for an image under `policy`, given whether the daemon already has it. */
export function pullAction(policy: Exclude<PullPolicy, "build">, present: boolean): PullAction {
  if (policy === "always") return "pull";
  if (present) return "use-local";
  return policy === "never" ? "missing" : "pull";
}
