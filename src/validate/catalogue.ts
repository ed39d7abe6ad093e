// Every validation category, in the order a run goes through them, and the selection rules of
// `--category`: default is every category that is not optional; unknown names are usage errors.
import { ConfigError } from "../engine/errors.js";
import type { Category } from "./scenario.js";
import { cleanup } from "./scenarios/cleanup.js";
import { concurrency } from "./scenarios/concurrency.js";
import { conflicts } from "./scenarios/conflicts.js";
import { health } from "./scenarios/health.js";
import { lifecycle } from "./scenarios/lifecycle.js";
import { memory } from "./scenarios/memory.js";
import { networks } from "./scenarios/networks.js";
import { proxy } from "./scenarios/proxy.js";
import { rateLimiting } from "./scenarios/rate-limiting.js";
import { referenceStack } from "./scenarios/reference-stack.js";
import { safeRemoval } from "./scenarios/safe-removal.js";

export const CATEGORIES: readonly Category[] = [
  lifecycle,
  safeRemoval,
  rateLimiting,
  memory,
  concurrency,
  networks,
  conflicts,
  health,
  cleanup,
  proxy,
  referenceStack,
];

export function selectCategories(
  names: readonly string[] = [],
  catalogue: readonly Category[] = CATEGORIES,
): Category[] {
  if (names.length === 0) return catalogue.filter((c) => !c.optional);
  const known = new Map(catalogue.map((c) => [c.id, c]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown validation category \`${unknown[0]}\``, {
      resource: "--category",
      hint: `Choose from: ${catalogue.map((c) => c.id).join(", ")}.`,
    });
  }
  // Keep the catalogue's order, whatever order the names came in.
  return catalogue.filter((c) => names.includes(c.id));
}
