// Failures of `up` as a whole (as opposed to one service's failure).
import { BerthError } from "../engine/errors.js";

/** `up` did not finish within its overall timeout. */
export class UpTimeoutError extends BerthError {
  override readonly code = "BERTH_UP_TIMEOUT";
}

/** `up` was interrupted (its AbortSignal, Ctrl-C) and rolled back. */
export class UpInterruptedError extends BerthError {
  override readonly code = "BERTH_UP_INTERRUPTED";
  override readonly exitCode = 130;
}
