// Memory limits as the daemon should apply them, and the check that it did. MemorySwap is set
// equal to Memory unless the file sets memswap_limit: left unset, Docker silently allows as much
// swap again as the limit, and a service that should fail fast crawls through swap instead.

import { ConfigError } from "../engine/errors.js";
import type { ContainerInspect } from "../engine/types.js";
import type { ServiceSpec } from "../model/compose.js";
import { containerName } from "../model/container-name.js";
import { type MemoryMismatch, MemoryMismatchError } from "./errors.js";
import { type LimitProfile, matchLimitRule } from "./profiles.js";
import { formatSize, MIN_MEMORY_BYTES } from "./size.js";

/** The HostConfig fields berth sets for memory and CPU. */
export interface MemoryHostConfig {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
}

export interface MemoryDefaults {
  /** Limit for services that set none and match no profile rule (`--default-memory`). */
  defaultLimitBytes?: number;
  profile?: LimitProfile;
}

type LimitSource = "file" | "profile" | "default";

interface ResolvedLimit {
  limitBytes: number;
  source: LimitSource;
  /** The profile rule that gave the limit, e.g. `limits.yml: limits.postgres*`. */
  rule?: string;
}

/** Where the service's limit comes from: its file, then the profile, then the default. */
export function resolveMemoryLimit(
  service: ServiceSpec,
  defaults: MemoryDefaults = {},
): ResolvedLimit | undefined {
  if (service.memory.limitBytes !== undefined)
    return { limitBytes: service.memory.limitBytes, source: "file" };
  const rule = matchLimitRule(defaults.profile, service.name);
  if (rule) return { limitBytes: rule.limitBytes, source: "profile", rule: rule.source };
  if (defaults.defaultLimitBytes !== undefined)
    return { limitBytes: defaults.defaultLimitBytes, source: "default" };
  return undefined;
}

function refuse(service: ServiceSpec, message: string, hint: string): never {
  throw new ConfigError(`service \`${service.name}\`: ${message}`, {
    resource: service.location?.file ? `${service.location.file}: services.${service.name}` : service.name,
    hint,
  });
}

/** The HostConfig memory and CPU fields for a service; refuses combinations Docker would refuse. */
export function memoryHostConfig(service: ServiceSpec, defaults: MemoryDefaults = {}): MemoryHostConfig {
  const config: MemoryHostConfig = {};
  const limit = resolveMemoryLimit(service, defaults);
  const { swapLimitBytes, reservationBytes } = service.memory;
  if (limit) {
    if (limit.limitBytes < MIN_MEMORY_BYTES) {
      refuse(
        service,
        `memory limit ${formatSize(limit.limitBytes)} is below Docker's minimum of 6 MiB`,
        "Use at least 6m.",
      );
    }
    config.Memory = limit.limitBytes;
    config.MemorySwap = swapLimitBytes ?? limit.limitBytes;
    if (config.MemorySwap !== -1 && config.MemorySwap < limit.limitBytes) {
      refuse(
        service,
        `memswap_limit ${formatSize(config.MemorySwap)} is below its memory limit ${formatSize(limit.limitBytes)}`,
        "memswap_limit counts memory plus swap: set it to at least the memory limit, or leave it out for no swap.",
      );
    }
  } else if (swapLimitBytes !== undefined && swapLimitBytes !== -1) {
    refuse(
      service,
      `memswap_limit ${formatSize(swapLimitBytes)} is set without a memory limit`,
      "Set mem_limit too: Docker only accepts a swap limit together with a memory limit.",
    );
  }
  if (reservationBytes !== undefined) {
    if (config.Memory !== undefined && reservationBytes > config.Memory) {
      refuse(
        service,
        `mem_reservation ${formatSize(reservationBytes)} is above its memory limit ${formatSize(config.Memory)}`,
        "A reservation is a soft floor below the limit: lower it or raise mem_limit.",
      );
    }
    config.MemoryReservation = reservationBytes;
  }
  if (service.cpus !== undefined) config.NanoCpus = Math.round(service.cpus * 1e9);
  return config;
}

function describe(field: keyof MemoryHostConfig, value: number | undefined): string {
  if (value === undefined || value === 0) return field === "NanoCpus" ? "no CPU limit" : "unset";
  if (field === "NanoCpus") return `${value / 1e9} CPUs`;
  return value === -1 ? "unlimited" : formatSize(value);
}

interface VerifyOptions {
  /**
   * Whether the daemon can limit swap (`docker info` SwapLimit). Without it the daemon answers
   * MemorySwap -1 and warns; that is accepted then, since no swap limit can be enforced at all.
   */
  swapLimitSupported?: boolean;
}

/** Checks an inspected container against what berth asked for; throws naming every difference. */
export function verifyAppliedMemory(
  service: string,
  expected: MemoryHostConfig,
  inspect: ContainerInspect,
  options: VerifyOptions = {},
): void {
  const host = (inspect.HostConfig ?? {}) as MemoryHostConfig;
  const mismatches: MemoryMismatch[] = [];
  for (const field of ["Memory", "MemorySwap", "MemoryReservation", "NanoCpus"] as const) {
    const want = expected[field];
    if (want === undefined) continue;
    const got = host[field] ?? 0;
    if (got === want) continue;
    if (field === "MemorySwap" && got === -1 && options.swapLimitSupported === false) continue;
    mismatches.push({ field, expected: describe(field, want), actual: describe(field, got) });
  }
  if (mismatches.length)
    throw new MemoryMismatchError(service, mismatches, { resource: containerName(inspect) });
}
