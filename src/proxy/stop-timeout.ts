// Docker's stop timeout for creates that name none, when the proxy's daemon is Podman. Podman
// records a missing `StopTimeout` as 0 and then stops such a container by killing it at once;
// Docker waits 10 s after SIGTERM. berth's own creates set it explicitly; this gives the clients
// behind the proxy (the docker CLI, Compose, Testcontainers) Docker's behaviour on Podman too.
import { request } from "node:http";
import { DEFAULT_STOP_TIMEOUT_SECONDS } from "../engine/engine.js";
import type { Upstream } from "./upstream.js";

/** The create body with `StopTimeout` set to Docker's default, or undefined when it names one (or is not a JSON object). */
export function withDefaultStopTimeout(body: Buffer): Buffer | undefined {
  let spec: unknown;
  try {
    spec = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) return undefined;
  const current = (spec as { StopTimeout?: unknown }).StopTimeout;
  if (current !== undefined && current !== null) return undefined;
  return Buffer.from(JSON.stringify({ ...spec, StopTimeout: DEFAULT_STOP_TIMEOUT_SECONDS }), "utf8");
}

const PING_TIMEOUT_MS = 5_000;

/** Podman's compat API answers every request, `/_ping` included, with a `Libpod-Api-Version` header. */
export function isPodmanPing(headers: Record<string, string | string[] | undefined>): boolean {
  return headers["libpod-api-version"] !== undefined;
}

/**
 * Whether the upstream is Podman, asked once with a `/_ping` (a failed question is asked again
 * next time; until it is answered, creates pass unchanged).
 */
export function podmanDetector(upstream: Upstream): () => Promise<boolean> {
  let known: Promise<boolean> | undefined;
  return () => {
    known ??= new Promise<boolean>((resolve, reject) => {
      const req = request({ ...upstream.requestOptions(), method: "GET", path: "/_ping" }, (res) => {
        res.resume();
        resolve(isPodmanPing(res.headers));
      });
      req.once("error", reject);
      // A daemon that does not answer fails the create on its own; the question must not hang it.
      req.setTimeout(PING_TIMEOUT_MS, () => req.destroy(new Error("no answer to /_ping")));
      req.end();
    }).catch(() => {
      known = undefined;
      return false;
    });
    return known;
  };
}
