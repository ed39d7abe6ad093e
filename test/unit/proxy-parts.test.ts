import { describe, expect, it } from "vitest";
import { endToEndHeaders, errorBody } from "../../src/proxy/http-messages.js";
import { limiterView } from "../../src/proxy/limiter-view.js";
import {
  dockerHostFor,
  isLoopback,
  ListenAddressError,
  parseListenAddress,
  runtimeDir,
} from "../../src/proxy/listen-address.js";
import { ProxyMetrics, toPrometheus } from "../../src/proxy/metrics.js";
import { shouldRetry } from "../../src/proxy/retry-rules.js";

describe("listen addresses", () => {
  it("parses unix sockets and loopback TCP", () => {
    expect(parseListenAddress("unix:///run/berth.sock")).toEqual({ kind: "unix", path: "/run/berth.sock" });
    expect(parseListenAddress("tcp://127.0.0.1:2399")).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 2399,
    });
    expect(parseListenAddress("tcp://[::1]:0")).toEqual({ kind: "tcp", host: "::1", port: 0 });
    expect(parseListenAddress("tcp://localhost:2399").kind).toBe("tcp");
  });

  it("refuses non-loopback addresses unless remote access is allowed", () => {
    expect(() => parseListenAddress("tcp://0.0.0.0:2375")).toThrow(ListenAddressError);
    expect(() => parseListenAddress("tcp://0.0.0.0:2375")).toThrow(/not a loopback address/);
    expect(parseListenAddress("tcp://0.0.0.0:2375", { allowRemote: true }).kind).toBe("tcp");
  });

  it("refuses malformed addresses as usage errors", () => {
    for (const bad of [
      "unix://relative.sock",
      "http://127.0.0.1:1",
      "tcp://127.0.0.1",
      "tcp://127.0.0.1:70000",
    ]) {
      expect(() => parseListenAddress(bad)).toThrow(ListenAddressError);
    }
    expect(new ListenAddressError("x").exitCode).toBe(2);
  });

  it("knows loopback hosts", () => {
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("127.1.2.3")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("10.0.0.1")).toBe(false);
    expect(isLoopback("example.com")).toBe(false);
  });

  it("derives DOCKER_HOST and the runtime directory", () => {
    expect(dockerHostFor({ kind: "unix", path: "/x.sock" })).toBe("unix:///x.sock");
    expect(dockerHostFor({ kind: "tcp", host: "::1", port: 5 })).toBe("tcp://[::1]:5");
    expect(runtimeDir({ XDG_RUNTIME_DIR: "/run/user/1000" })).toBe("/run/user/1000/berth");
    expect(runtimeDir({})).toMatch(/\/berth-\d+$/);
  });
});

describe("hop-by-hop headers", () => {
  it("drops connection-scoped headers, including those Connection names", () => {
    const raw = [
      "Host",
      "docker",
      "Connection",
      "keep-alive, X-Trace",
      "X-Trace",
      "1",
      "Transfer-Encoding",
      "chunked",
    ];
    expect(endToEndHeaders(raw)).toEqual(["Host", "docker"]);
    expect(endToEndHeaders(["Content-Length", "3", "Accept", "*/*"], new Set(["content-length"]))).toEqual([
      "Accept",
      "*/*",
    ]);
  });

  it("answers errors in the Engine API's format", () => {
    expect(JSON.parse(errorBody("no"))).toEqual({ message: "no" });
  });
});

describe("retries", () => {
  const base = { idempotent: true, replayable: true };

  it("repeats refused connections, even for creates, and resets only for idempotent calls", () => {
    const refused = { kind: "connection", code: "ECONNREFUSED", reusedSocket: false } as const;
    const reset = { kind: "connection", code: "ECONNRESET", reusedSocket: false } as const;
    expect(shouldRetry({ ...base, idempotent: false, failure: refused })).toBe(true);
    expect(shouldRetry({ ...base, failure: reset })).toBe(true);
    expect(shouldRetry({ ...base, idempotent: false, failure: reset })).toBe(false);
    expect(shouldRetry({ ...base, idempotent: false, failure: { ...reset, reusedSocket: true } })).toBe(true);
  });

  it("repeats transient answers of idempotent calls only", () => {
    const busy = { kind: "status", status: 500, message: "device or resource busy" } as const;
    expect(shouldRetry({ ...base, failure: busy })).toBe(true);
    expect(shouldRetry({ ...base, idempotent: false, failure: busy })).toBe(false);
    expect(shouldRetry({ ...base, failure: { kind: "status", status: 500, message: "no such file" } })).toBe(
      false,
    );
    expect(shouldRetry({ ...base, failure: { kind: "status", status: 503, message: "" } })).toBe(true);
  });

  it("never repeats bodies it did not keep", () => {
    const refused = { kind: "connection", code: "ECONNREFUSED", reusedSocket: false } as const;
    expect(shouldRetry({ ...base, replayable: false, failure: refused })).toBe(false);
  });
});

describe("metrics", () => {
  it("tracks in-flight and its maximum per class, latency percentiles and counters", () => {
    let limit = 4;
    const metrics = new ProxyMetrics(() => ({
      view: limiterView({ limit, inFlight: 0, queued: 2 }),
      raw: { limit },
    }));
    metrics.received("lifecycle");
    metrics.dispatched("lifecycle", 5);
    metrics.dispatched("lifecycle", 0);
    limit = 6;
    metrics.dispatched("lifecycle", 0);
    metrics.finished("lifecycle", 10);
    metrics.finished("lifecycle", 20);
    metrics.finished("lifecycle", 30);
    metrics.status(204);
    metrics.status(101);
    metrics.rewrote(true);
    metrics.denied("privileged");
    metrics.bytes(10, 20);
    const s = metrics.snapshot();
    expect(s.inFlight.lifecycle).toBe(0);
    expect(s.maxInFlight.lifecycle).toBe(3);
    expect(s.limit).toBe(6);
    expect(s.maxLimit).toBe(6);
    expect(s.queued).toBe(2);
    expect(s.latency.lifecycle).toMatchObject({ count: 3, p50Ms: 20, maxMs: 30 });
    expect(s.queuedTime.lifecycle.maxMs).toBe(5);
    expect(s.requests.byStatus).toEqual({ "2xx": 1, "101": 1 });
    expect(s.rewrites.total).toBe(1);
    expect(s.denials.byRule).toEqual({ privileged: 1 });
    expect(s.bytes).toEqual({ fromClients: 10, toClients: 20 });

    const text = toPrometheus(s);
    expect(text).toContain('berth_proxy_max_in_flight{class="lifecycle"} 3');
    expect(text).toContain("berth_proxy_limit 6");
    expect(text).toContain('berth_proxy_latency_ms{class="lifecycle",quantile="0.5"} 20');
    expect(text).toContain('berth_proxy_denials_total{rule="privileged"} 1');
    expect(text).toMatch(/# TYPE berth_proxy_rewrites_total counter\nberth_proxy_rewrites_total 1/);
  });

  it("reads limit, in-flight and queued from limiter snapshots of either shape", () => {
    expect(limiterView({ currentLimit: 3, inFlight: 1, queued: 0, highestLimit: 9 })).toEqual({
      limit: 3,
      inFlight: 1,
      queued: 0,
      highest: 9,
    });
    expect(limiterView({ mode: "off", limit: Number.POSITIVE_INFINITY })).toEqual({
      limit: null,
      inFlight: null,
      queued: null,
      highest: null,
    });
    expect(limiterView(undefined).limit).toBeNull();
  });
});
