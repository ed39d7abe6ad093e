// Ages as people write them for `gc --older-than`: `90s`, `15m`, `2h`, `7d`, `1h30m`, `500ms`.
import { ConfigError } from "../engine/errors.js";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration to milliseconds, or throws a ConfigError naming the value and where it came from. */
export function parseDuration(value: string, where = "duration"): number {
  const text = value.trim().toLowerCase();
  if (text === "0") return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed !== text) {
    throw new ConfigError(`${where}: invalid duration \`${value}\``, {
      resource: where,
      hint: "Write a number with a unit ms, s, m, h, d or w, e.g. 30m, 2h, 1h30m, 7d.",
    });
  }
  return parts.reduce((total, p) => total + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
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
