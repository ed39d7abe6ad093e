// Durations as Compose writes them (Go's time.ParseDuration): `10s`, `1m30s`, `500ms`, `1h`, `1.5s`,
// `250us`. A bare number is refused unless it is 0, because Compose would read it as nanoseconds
// while people mean seconds.
import { ConfigError } from "../engine/errors.js";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

export interface DurationContext {
  /** Where the value came from, e.g. `compose.yml: services.api.stop_grace_period`. */
  where?: string;
}

/** Parses a duration to whole milliseconds, or throws a ConfigError naming the value. */
export function parseDuration(value: string | number, context: DurationContext = {}): number {
  const where = context.where ? `${context.where}: ` : "";
  const refuse = (why: string): never => {
    throw new ConfigError(`${where}invalid duration \`${value}\`${why}`, {
      resource: context.where,
      hint: "Write a number with a unit h, m, s, ms or us, e.g. 10s, 1m30s, 500ms.",
    });
  };
  if (typeof value === "number") {
    if (value === 0) return 0;
    return refuse(" (a unit is required)");
  }
  const text = value.trim();
  if (text === "0") return 0;
  if (text === "") return refuse("");
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== start) {
      return refuse(/^-/.test(text) ? " (durations cannot be negative)" : "");
    }
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return Math.round(total);
}

/** Prints milliseconds the way Compose files write them: `1m30s`, `500ms`, `2h`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join("");
}
