// Memory's own failures: a limit the daemon did not apply as asked, and a service the kernel
// OOM killer ended. Both name the service and the values, so the message alone is actionable.
import { BerthError, type BerthErrorDetails } from "../engine/errors.js";
import type { ExitDiagnosis } from "./diagnose.js";

export interface MemoryMismatch {
  /** The HostConfig field, e.g. `MemorySwap`. */
  field: string;
  expected: string;
  actual: string;
}

/** After create, inspect showed different memory settings than berth asked for. */
export class MemoryMismatchError extends BerthError {
  override readonly code = "BERTH_MEMORY_MISMATCH";
  declare readonly service: string;
  declare readonly mismatches: MemoryMismatch[];

  constructor(service: string, mismatches: MemoryMismatch[], details: BerthErrorDetails = {}) {
    const what = mismatches.map((m) => `${m.field} ${m.actual} (berth asked for ${m.expected})`).join(", ");
    super(`service \`${service}\`: the daemon applied ${what}`, {
      resource: service,
      hint: "Check the daemon's warnings (docker info) for missing memory or swap limit support.",
      ...details,
    });
    this.withFacts({ service, mismatches });
  }
}

/** The kernel OOM killer ended the service's container: its memory limit is too small for it. */
export class OomKilledError extends BerthError {
  override readonly code = "BERTH_OOM_KILLED";
  declare readonly service: string;
  declare readonly container: string;
  declare readonly limitBytes: number | undefined;
  /** The container's exit code (137 for a kill); `exitCode` is the CLI's. */
  declare readonly containerExitCode: number | undefined;
  /** The one-sentence cause, without the logs. */
  declare readonly summary: string;
  declare readonly logsTail: string[];

  constructor(diagnosis: ExitDiagnosis, details: BerthErrorDetails = {}) {
    const logs = diagnosis.logsTail.length
      ? `\n  last ${diagnosis.logsTail.length} log lines:\n${diagnosis.logsTail.map((l) => `    ${l}`).join("\n")}`
      : "\n  (no log output)";
    super(`${diagnosis.summary}${logs}`, {
      resource: diagnosis.container || diagnosis.service,
      hint:
        diagnosis.limitBytes === undefined
          ? "The host itself ran out of memory: give the service a limit (mem_limit) so it fails alone."
          : "Raise its mem_limit (`berth stats --advise` measures what it needs) or find what allocates.",
      ...details,
    });
    this.withFacts({
      service: diagnosis.service,
      container: diagnosis.container,
      limitBytes: diagnosis.limitBytes,
      containerExitCode: diagnosis.exitCode,
      summary: diagnosis.summary,
      logsTail: diagnosis.logsTail,
    });
  }
}
