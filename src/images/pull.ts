// Makes an image present on the daemon under a pull policy, pulling it at most once however many
// callers ask at the same time: credentials as the docker CLI finds them, the registry's
// transient failures and rate limits retried with the guard's backoff (a 429's Retry-After
// honoured within the retry deadline), refusals and unknown images reported at once.
import type { Engine } from "../engine/engine.js";
import { AbortedError, type BerthError, DaemonUnavailableError, TransientError } from "../engine/errors.js";
import { type RetrySettings, resolveRetrySettings } from "../guard/config.js";
import { guardOf } from "../guard/guard.js";
import { backoffDelay } from "../guard/retry.js";
import { sleep } from "../model/sleep.js";
import {
  type CredentialOptions,
  credentialsFor,
  dockerConfigPath,
  encodeRegistryAuth,
  type RegistryAuth,
  readDockerConfig,
} from "./credentials.js";
import { isRetryable, messageOf, pullError, pullFailureKind } from "./pull-failure.js";
import { pullLock, pullLockDir, pullOnceInProcess } from "./pull-once.js";
import { type ImageProgress, PullTally } from "./pull-progress.js";
import { canonicalReference, type ImageReference, parseImageReference } from "./reference.js";
import { probeRetryAfter } from "./retry-after.js";

interface EnsureImageOptions extends CredentialOptions {
  /** `missing` (default): pull only when absent; `always`: pull even when present. */
  policy?: "missing" | "always";
  onProgress?: (progress: ImageProgress) => void;
  signal?: AbortSignal;
  /** Directory of the machine-wide pull locks (default BERTH_PULL_LOCK_DIR or $TMPDIR/berth-pull-locks). */
  lockDir?: string;
}

interface EnsuredImage {
  ref: string;
  /** The image id on the daemon (`sha256:...`). */
  imageId: string;
  /** True when this call (or the pull it joined) pulled; false when the image was used as found. */
  pulled: boolean;
}

/** How often a pull's byte progress is reported at most; phase changes are reported at once. */
const PROGRESS_INTERVAL_MS = 500;

export function ensureImage(
  engine: Engine,
  image: string,
  options: EnsureImageOptions = {},
): Promise<EnsuredImage> {
  const ref = parseImageReference(image);
  const policy = options.policy ?? "missing";
  const key = `${engine.endpoint.url}\n${canonicalReference(ref)}\n${policy}`;
  return pullOnceInProcess(
    key,
    (emit) => pullWithTurn(engine, ref, policy, options, emit),
    options.onProgress,
  );
}

async function pullWithTurn(
  engine: Engine,
  ref: ImageReference,
  policy: "missing" | "always",
  options: EnsureImageOptions,
  emit: (progress: ImageProgress) => void,
): Promise<EnsuredImage> {
  const present = async (): Promise<EnsuredImage | undefined> => {
    const found = await engine.findImage(ref.raw);
    return found ? { ref: ref.raw, imageId: found.Id, pulled: false } : undefined;
  };
  if (policy === "missing") {
    const found = await present();
    if (found) {
      emit({ image: ref.raw, phase: "present", imageId: found.imageId });
      return found;
    }
  }
  const lock = await pullLock(engine.endpoint.url, canonicalReference(ref), {
    dir: options.lockDir ?? pullLockDir(options.env),
    onWait: () => emit({ image: ref.raw, phase: "waiting", reason: "another process is pulling it" }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    // Whoever held the turn before may have pulled it: that pull is as fresh as ours would be.
    if (policy === "missing" || lock.pulledByOther) {
      const found = await present();
      if (found) {
        emit({ image: ref.raw, phase: lock.pulledByOther ? "pulled" : "present", imageId: found.imageId });
        return { ...found, pulled: lock.pulledByOther };
      }
    }
    const imageId = await pullWithRetries(engine, ref, options, emit);
    lock.markPulled();
    emit({ image: ref.raw, phase: "pulled", imageId });
    return { ref: ref.raw, imageId, pulled: true };
  } finally {
    lock.release();
  }
}

function retrySettings(engine: Engine, options: EnsureImageOptions): RetrySettings {
  return guardOf(engine)?.retry ?? resolveRetrySettings(undefined, options.env ?? process.env);
}

/** Failures the engine or the guard already dealt with: not the registry's, not retried here. */
function isEngineFailure(error: unknown): boolean {
  return (
    error instanceof AbortedError ||
    error instanceof DaemonUnavailableError ||
    error instanceof TransientError
  );
}

/**
 * A pull stream that ended without an error and without leaving the image: cut short on the way
 * (a proxy that closed it cleanly) before the daemon's final status. Transient: pulled again.
 */
const STREAM_ENDED_EARLY =
  "pull stream ended early: it closed before the daemon's final status and the image is not on the daemon";

/** Pulls until the image is on the daemon or a failure is final; answers the image id. */
async function pullWithRetries(
  engine: Engine,
  ref: ImageReference,
  options: EnsureImageOptions,
  emit: (progress: ImageProgress) => void,
): Promise<string> {
  const auth: RegistryAuth | undefined = await credentialsFor(
    ref.registry,
    readDockerConfig(dockerConfigPath(options.env)),
  );
  const header = auth ? encodeRegistryAuth(auth) : undefined;
  const retry = retrySettings(engine, options);
  let waitedMs = 0;
  for (let attempt = 1; ; attempt++) {
    const tally = new PullTally();
    let lastReport = 0;
    emit({ image: ref.raw, phase: "pulling", attempt });
    try {
      await engine.pullImage(ref.raw, {
        ...(header ? { auth: header } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (event) => {
          if (!tally.add(event)) return;
          const now = performance.now();
          if (now - lastReport < PROGRESS_INTERVAL_MS) return;
          lastReport = now;
          emit({ image: ref.raw, phase: "pulling", attempt, ...tally.summary() });
        },
      });
      const found = await engine.findImage(ref.raw);
      if (!found) throw new Error(STREAM_ENDED_EARLY);
      return found.Id;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const facts = { attempts: attempt, authenticated: auth !== undefined };
      const kind = pullFailureKind(messageOf(error), (error as BerthError).status);
      const final = (retryAfterMs?: number) => {
        const failure = pullError(ref, isEngineFailure(error) ? "other" : kind, error, {
          ...facts,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
        emit({ image: ref.raw, phase: "failed", reason: failure.message });
        // The engine's own errors (daemon gone, aborted) stay what they are.
        return isEngineFailure(error) ? error : failure;
      };
      if (isEngineFailure(error) || !isRetryable(kind) || attempt >= retry.maxAttempts) throw final();
      let delay = backoffDelay(attempt, retry);
      let retryAfterMs: number | undefined;
      if (kind === "rate-limited") {
        retryAfterMs = await probeRetryAfter(ref, auth);
        if (retryAfterMs !== undefined) delay = Math.max(delay, retryAfterMs);
      }
      // Asked to wait longer than the retry deadline allows: fail now and say how long.
      if (waitedMs + delay > retry.deadlineMs) throw final(retryAfterMs);
      emit({
        image: ref.raw,
        phase: "retrying",
        attempt,
        delayMs: Math.round(delay),
        reason: `${kind}: ${messageOf(error).split("\n")[0]}`,
      });
      await sleep(delay, options.signal);
      waitedMs += delay;
    }
  }
}
