// Durations as people and Compose files write them, one parser for all of berth:
// - Compose's form (Go's time.ParseDuration): `10s`, `1m30s`, `500ms`, `1h`, `1.5s`, `250us`.
//   A bare number is refused unless it is 0, because Compose would read it as nanoseconds while
//   people mean seconds.
// - Ages (`gc --older-than`), with `{ days: true }`: the same plus days and weeks (`7d`, `2w`),
//   in any case (`2H`).
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

const AGE_UNIT_MS: Record<string, number> = { ...UNIT_MS, d: 86_400_000, w: 604_800_000 };

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
const AGE_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w)/y;

export interface DurationContext {
  /** Where the value came from, e.g. `compose.yml: services.api.stop_grace_period` or `--older-than`. */
  where?: string;
  /** Also accept days (`d`) and weeks (`w`) and any case, as ages are written; Compose has neither. */
  days?: boolean;
}

/** Parses a duration to whole milliseconds, or throws a ConfigError naming the value and where it came from. */
export function parseDuration(value: string | number, context: DurationContext = {}): number {
  const where = context.where ? `${context.where}: ` : "";
  const refuse = (why: string): never => {
    throw new ConfigError(`${where}invalid duration \`${value}\`${why}`, {
      resource: context.where,
      hint: context.days
        ? "Write a number with a unit ms, s, m, h, d or w, e.g. 30m, 2h, 1h30m, 7d."
        : "Write a number with a unit h, m, s, ms or us, e.g. 10s, 1m30s, 500ms.",
    });
  };
  if (typeof value === "number") {
    if (value === 0) return 0;
    return refuse(" (a unit is required)");
  }
  const text = context.days ? value.trim().toLowerCase() : value.trim();
  if (text === "0") return 0;
  if (text === "") return refuse("");
  const part = context.days ? AGE_PART : PART;
  const units = context.days ? AGE_UNIT_MS : UNIT_MS;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < text.length) {
    const start = part.lastIndex;
    const match = part.exec(text);
    if (!match || match.index !== start) {
      return refuse(/^-/.test(text) ? " (durations cannot be negative)" : "");
    }
    total += Number(match[1]) * units[match[2]!]!;
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

/** A short human form of an age in milliseconds: `45s`, `12m`, `3h`, `2d`. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7_200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3_600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
