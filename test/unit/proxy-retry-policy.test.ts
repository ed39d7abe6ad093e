// The proxy retries with the guard's policy: BERTH_RETRY_* decide how often it sends a request
// again. The daemon address refuses connections (nothing listens there), a failure the proxy
// may always repeat, so the attempts in the access log are the policy's to count.
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ProxyLogEntry } from "../../src/proxy/proxy-context.js";
import { type RunningProxy, startProxy } from "../../src/proxy/server.js";

/** A loopback port with nothing listening (helper a's spare range). */
const REFUSING = "tcp://127.0.0.1:22177";

let running: RunningProxy | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function attemptsWith(env: Record<string, string>, method: "GET" | "POST"): Promise<number> {
  const entries: ProxyLogEntry[] = [];
  running = await startProxy({
    listen: "tcp://127.0.0.1:0",
    upstream: REFUSING,
    env: { ...env, BERTH_LIMITER: "off" },
    rewriteForceRemoval: false,
    log: (entry) => entries.push(entry),
  });
  const port = Number(new URL(running.dockerHost.replace("tcp://", "http://")).port);
  const body = method === "POST" ? JSON.stringify({ Image: "busybox" }) : undefined;
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: method === "POST" ? "/containers/create?name=berth-retry-policy" : "/containers/json",
        headers: body
          ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
  expect(status).toBe(502);
  expect(entries).toHaveLength(1);
  return entries[0]!.attempts!;
}

describe("proxy retries follow the guard's policy", () => {
  for (const method of ["GET", "POST"] as const) {
    it(`${method}: BERTH_RETRY_MAX_ATTEMPTS sets the attempts in all`, async () => {
      expect(await attemptsWith({ BERTH_RETRY_MAX_ATTEMPTS: "1" }, method)).toBe(1);
      await running?.close();
      expect(await attemptsWith({ BERTH_RETRY_MAX_ATTEMPTS: "4" }, method)).toBe(4);
    });

    it(`${method}: BERTH_RETRY_DEADLINE_MS leaves no time for a retry when 0`, async () => {
      expect(
        await attemptsWith({ BERTH_RETRY_MAX_ATTEMPTS: "5", BERTH_RETRY_DEADLINE_MS: "0" }, method),
      ).toBe(1);
    });
  }
});
