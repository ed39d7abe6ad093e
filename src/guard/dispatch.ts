// One guarded dispatch, shared by the engine's guard and the proxy: every attempt holds a limiter
// slot, and a failure the caller's rules call retryable goes again only while the guard's retry
// policy (BERTH_RETRY_*: attempts, deadline) has room, after its jittered exponential backoff.
import { AbortedError } from "../engine/errors.js";
import type { OperationClass } from "../engine/operations.js";
import { sleep } from "../model/sleep.js";
import type { RetrySettings } from "./config.js";
import type { Limiter, Permit } from "./limiter.js";
import { backoffDelay } from "./retry.js";

export interface DispatchPolicy {
  limiter: Limiter;
  retry: RetrySettings;
  /** Source of the backoff jitter, in [0, 1) (default Math.random). */
  random?: () => number;
}

export interface DispatchRequest {
  class: OperationClass;
  operation: string;
  resource?: string;
  /** Aborts the wait for a slot and the wait before a retry. */
  signal?: AbortSignal;
}

/** One attempt: its limiter slot (the attempt releases it) and what the policy allows after it. */
export interface DispatchAttempt {
  /** From 1. */
  number: number;
  permit: Permit;
  /** The wait before the next attempt, if there is one. */
  delayMs: number;
  /** Whether the policy leaves room for another attempt (attempts in all, the deadline). */
  mayRetry(): boolean;
}

/** What an attempt answers to be sent again (only after `mayRetry()` said yes). */
export const RETRY: unique symbol = Symbol("retry");

/**
 * Runs `attempt` in a limiter slot until it answers something other than `RETRY`. Throws what
 * the limiter throws when the wait for a slot is aborted, and an AbortedError when the wait
 * before a retry is.
 */
export async function guardedDispatch<T>(
  policy: DispatchPolicy,
  request: DispatchRequest,
  attempt: (current: DispatchAttempt) => Promise<T | typeof RETRY>,
): Promise<T> {
  const { limiter, retry } = policy;
  const random = policy.random ?? Math.random;
  const began = performance.now();
  for (let number = 1; ; number++) {
    // A free slot is taken at once; only a wait for one costs a promise and an abort listener.
    const free = request.signal?.aborted ? undefined : limiter.tryAcquire?.(request.class, request.operation);
    const permit = free ?? (await limiter.acquire(request.class, request.signal, request.operation));
    const delayMs = backoffDelay(number, retry, random);
    const mayRetry = () =>
      number < retry.maxAttempts && performance.now() - began + delayMs <= retry.deadlineMs;
    const answer = await attempt({ number, permit, delayMs, mayRetry });
    if (answer !== RETRY) return answer;
    try {
      await sleep(delayMs, request.signal);
    } catch (reason) {
      throw new AbortedError(`${request.operation} was aborted while waiting to retry`, {
        operation: request.operation,
        resource: request.resource,
        cause: reason,
      });
    }
  }
}
