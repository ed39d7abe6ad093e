// Sizes as Docker and Compose write them: `b`, `k`/`kb`, `m`/`mb`, `g`/`gb` (binary multiples),
// any case, decimals like `1.5g`, plain bytes; also `KiB`/`MiB`/`GiB`, so what formatSize prints
// parses back. Invalid ones are refused with the value named.
import { ConfigError } from "../engine/errors.js";

/** Docker refuses memory limits below 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

interface SizeContext {
  /** Where the value came from, e.g. `compose.yml: services.api.mem_limit`. */
  where?: string;
  /** Enforce Docker's memory minimum. */
  memory?: boolean;
}

/** Parses a size to bytes, or throws a ConfigError naming the value and where it came from. */
export function parseSize(value: string | number, context: SizeContext = {}): number {
  const where = context.where ? `${context.where}: ` : "";
  let bytes: number;
  if (typeof value === "number") {
    bytes = value;
  } else {
    if (/^\s*-/.test(value)) {
      throw new ConfigError(`${where}invalid size \`${value}\`: sizes cannot be negative`, {
        resource: context.where,
        hint: "Write a number from 0 up with an optional unit b, k, m or g (e.g. 512m).",
      });
    }
    const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(value);
    const unit = match?.[2]?.toLowerCase();
    if (!match || unit === undefined || !(unit in UNITS)) {
      throw new ConfigError(`${where}invalid size \`${value}\``, {
        resource: context.where,
        hint: "Write a number with an optional unit b, k, m or g (e.g. 512m, 1.5g, 1073741824).",
      });
    }
    bytes = Math.floor(Number(match[1]) * UNITS[unit]!);
  }
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new ConfigError(`${where}invalid size \`${value}\``, {
      resource: context.where,
      hint: "Sizes cannot be negative.",
    });
  }
  if (context.memory && bytes < MIN_MEMORY_BYTES) {
    throw new ConfigError(`${where}memory limit \`${value}\` is below Docker's minimum of 6 MiB`, {
      resource: context.where,
      hint: "Use at least 6m.",
    });
  }
  return bytes;
}

/** Prints a size the way people write it: `512 MiB`, `1.5 GiB`, `300 KiB`, `17 B`. */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = Number.isInteger(value)
    ? String(value)
    : value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2).replace(/\.?0+$/, "");
  return `${text} ${units[i]}`;
}

/**
 * Rounds up to the next clean size: powers of two and one and a half times powers of two, in
 * MiB (6, 8, 12, 16, 24, 32, 48, 64, 96, 128, ... 512, 768, 1024, 1536, 2048 ...). Every step
 * is a size people write (`768m`, `1.5g`, `2g`) and at most 1.5 times the one below it.
 */
export function roundUpToCleanSize(bytes: number): number {
  const mib = 1024 ** 2;
  let size = MIN_MEMORY_BYTES;
  let power = 8 * mib;
  while (size < bytes) {
    // Ladder: 6, 8, 12, 16, 24, 32, ... MiB: each power of two, then 1.5x that power.
    size = power;
    if (size >= bytes) break;
    size = power * 1.5;
    power *= 2;
  }
  return size;
}

/** Writes a size the way a Compose file does: `2g`, `768m`, `1536m`, `300k`, or plain bytes. */
export function formatComposeSize(bytes: number): string {
  for (const [unit, factor] of [
    ["g", 1024 ** 3],
    ["m", 1024 ** 2],
    ["k", 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
