// Failures of one service while an environment comes up. Each names the service and carries the
// container's diagnosis (state, exit code, OOM, last probe, last 50 log lines) in its message.
import { BerthError, type BerthErrorDetails } from "../engine/errors.js";
import { type ContainerDiagnosis, formatDiagnosis } from "./diagnose.js";

// An OOM kill is reported with the memory layer's OomKilledError (it names the limit).
export type ServiceFailureKind = "start" | "unhealthy" | "exited" | "timeout";

interface ServiceFailureDetails extends BerthErrorDetails {
  service: string;
  diagnosis?: ContainerDiagnosis;
}

function composeMessage(summary: string, diagnosis: ContainerDiagnosis | undefined): string {
  return diagnosis ? `${summary}\n${formatDiagnosis(diagnosis)}` : summary;
}

export class ServiceFailedError extends BerthError {
  override readonly code: string = "BERTH_SERVICE_FAILED";
  readonly kind: ServiceFailureKind = "start";
  readonly service: string;
  readonly diagnosis: ContainerDiagnosis | undefined;
  /** The one-line summary, without the diagnosis. */
  readonly summary: string;

  constructor(summary: string, details: ServiceFailureDetails) {
    super(composeMessage(summary, details.diagnosis), { resource: details.service, ...details });
    this.summary = summary;
    this.service = details.service;
    this.diagnosis = details.diagnosis;
  }

  override toJSON(): Record<string, unknown> {
    // `exit` repeats the same facts in the memory layer's words; the JSON keeps one copy.
    const { exit: _exit, ...diagnosis } = this.diagnosis ?? ({} as Partial<ContainerDiagnosis>);
    return {
      ...super.toJSON(),
      kind: this.kind,
      service: this.service,
      summary: this.summary,
      ...(this.diagnosis ? { diagnosis } : {}),
    };
  }
}

/** The service did not become ready within its timeout. */
export class HealthTimeoutError extends ServiceFailedError {
  override readonly code = "BERTH_HEALTH_TIMEOUT";
  override readonly kind = "timeout";
}

/** The service's healthcheck reported unhealthy. */
export class UnhealthyError extends ServiceFailedError {
  override readonly code = "BERTH_UNHEALTHY";
  override readonly kind = "unhealthy";
}

/** The service exited before it was ready (or a one-shot service exited non-zero). */
export class ServiceExitedError extends ServiceFailedError {
  override readonly code = "BERTH_SERVICE_EXITED";
  override readonly kind = "exited";
}

/** The daemon refused to start the container (bad mount, port taken, missing binary...). */
export class StartFailedError extends ServiceFailedError {
  override readonly code = "BERTH_START_FAILED";
  override readonly kind = "start";
}
