import { describe, expect, it } from "vitest";
import { classifyRequest, forceRemovalOf, queryBool } from "../../src/proxy/classify-request.js";

function classify(method: string, url: string) {
  const result = classifyRequest(method, url);
  if (!result.ok) throw new Error(`expected ${method} ${url} to classify, got ${result.message}`);
  return result.request;
}

describe("classifyRequest", () => {
  it.each([
    ["GET", "/_ping", "system.ping", "read"],
    ["HEAD", "/_ping", "system.ping", "read"],
    ["GET", "/v1.41/version", "system.version", "read"],
    ["GET", "/v1.41/containers/json?all=1", "container.list", "read"],
    ["GET", "/v1.41/containers/abc/json", "container.inspect", "read"],
    ["POST", "/v1.41/containers/create?name=x", "container.create", "lifecycle"],
    ["POST", "/v1.41/containers/abc/start", "container.start", "lifecycle"],
    ["POST", "/v1.41/containers/abc/stop?t=10", "container.stop", "lifecycle"],
    ["DELETE", "/v1.41/containers/abc?force=1", "container.remove", "lifecycle"],
    ["POST", "/v1.41/containers/abc/exec", "container.exec-create", "lifecycle"],
    ["POST", "/v1.41/networks/create", "network.create", "lifecycle"],
    ["DELETE", "/v1.41/volumes/data", "volume.remove", "lifecycle"],
    ["GET", "/v1.41/images/berth-fixture/busybox:1.35.0/json", "image.inspect", "read"],
    ["DELETE", "/v1.41/images/berth-fixture/busybox:1.35.0", "image.remove", "lifecycle"],
    ["GET", "/v1.41/images/json", "image.list", "read"],
    ["POST", "/v1.41/images/create?fromImage=busybox", "image.pull", "stream"],
    ["GET", "/v1.41/images/get?names=busybox", "image.export", "stream"],
    ["POST", "/v1.41/images/prune", "image.prune", "lifecycle"],
    ["GET", "/v1.41/images/berth-fixture/busybox:1.35.0/history", "image.history", "read"],
    ["GET", "/v1.41/images/busybox/get", "image.export", "stream"],
    ["POST", "/v1.41/images/busybox/tag?repo=x", "image.tag", "lifecycle"],
  ])("%s %s is %s (%s)", (method, url, operation, cls) => {
    const r = classify(method, url);
    expect(r.operation).toBe(operation);
    expect(r.class).toBe(cls);
  });

  it.each([
    ["GET", "/v1.41/events?filters=%7B%7D", "system.events"],
    ["POST", "/v1.41/containers/abc/wait?condition=next-exit", "container.wait"],
    ["GET", "/v1.41/containers/abc/logs?follow=1&stdout=1", "container.logs-follow"],
    ["GET", "/v1.41/containers/abc/logs?follow=true", "container.logs-follow"],
    ["GET", "/v1.41/containers/abc/stats", "container.stats-stream"],
    ["GET", "/v1.41/containers/abc/stats?stream=1", "container.stats-stream"],
    ["POST", "/v1.41/containers/abc/attach?stream=1&stdin=1", "container.attach"],
    ["GET", "/v1.41/containers/abc/attach/ws?stream=1", "container.attach"],
    ["POST", "/v1.41/exec/e1/start", "container.exec-start"],
    ["POST", "/v1.41/images/create?fromImage=busybox", "image.pull"],
    ["POST", "/v1.41/build?t=x", "image.build"],
    ["POST", "/session", "build.session"],
    ["POST", "/grpc", "build.grpc"],
  ])("%s %s is the stream %s", (method, url, operation) => {
    const r = classify(method, url);
    expect(r.operation).toBe(operation);
    expect(r.class).toBe("stream");
  });

  it("treats one-shot logs and stats as reads", () => {
    expect(classify("GET", "/containers/a/logs?follow=0").class).toBe("read");
    expect(classify("GET", "/containers/a/stats?stream=false").operation).toBe("container.stats");
    expect(classify("GET", "/containers/a/stats?stream=0&one-shot=1").class).toBe("read");
  });

  it("never queues terminal resizes behind lifecycle calls", () => {
    expect(classify("POST", "/v1.41/containers/a/resize?h=40&w=80").class).toBe("read");
    expect(classify("POST", "/v1.41/exec/e/resize?h=40&w=80").class).toBe("read");
  });

  it("reads the version prefix and strips it from the path", () => {
    const r = classify("GET", "/v1.41/containers/abc/json?size=1");
    expect(r.apiVersion).toBe("1.41");
    expect(r.path).toBe("/containers/abc/json");
    expect(r.resource).toBe("abc");
    expect(classify("GET", "/containers/abc/json").apiVersion).toBeUndefined();
  });

  it("puts requests in endpoint groups", () => {
    expect(classify("POST", "/containers/a/exec").group).toBe("exec");
    expect(classify("POST", "/exec/e/start").group).toBe("exec");
    expect(classify("POST", "/build").group).toBe("build");
    expect(classify("GET", "/swarm").group).toBe("swarm");
    expect(classify("POST", "/plugins/pull").class).toBe("stream");
    expect(classify("GET", "/services/s/logs?follow=1").class).toBe("stream");
  });

  it("marks spec-carrying POSTs for body reading", () => {
    expect(classify("POST", "/containers/create").jsonBody).toBe(true);
    expect(classify("POST", "/containers/a/exec").jsonBody).toBe(true);
    expect(classify("POST", "/volumes/create").jsonBody).toBe(true);
    expect(classify("POST", "/build").jsonBody).toBe(false);
    expect(classify("PUT", "/containers/a/archive?path=/").jsonBody).toBe(false);
  });

  it("refuses paths the Engine API does not have", () => {
    expect(classifyRequest("GET", "/etc/passwd")).toMatchObject({ ok: false, reason: "outside-api" });
    expect(classifyRequest("GET", "/v1.41/nonsense")).toMatchObject({ ok: false, reason: "outside-api" });
    expect(classifyRequest("POST", "/_ping")).toMatchObject({ ok: false, reason: "outside-api" });
    expect(classifyRequest("GET", "/containers/../../etc")).toMatchObject({ ok: false, reason: "bad-path" });
    expect(classifyRequest("GET", "/containers/..%2F..%2Fetc/json")).toMatchObject({
      ok: false,
      reason: "bad-path",
    });
    expect(classifyRequest("GET", "/containers/%E0%A4%A/json")).toMatchObject({
      ok: false,
      reason: "bad-path",
    });
    expect(classifyRequest("GET", "http://evil/containers/json")).toMatchObject({
      ok: false,
      reason: "bad-path",
    });
  });
});

describe("forceRemovalOf", () => {
  const removal = (method: string, url: string) => {
    const r = classifyRequest(method, url);
    return r.ok ? forceRemovalOf(method, r.request, url) : undefined;
  };

  it("finds forced removals the way the daemon reads booleans", () => {
    expect(removal("DELETE", "/v1.41/containers/abc?force=1")).toEqual({ container: "abc", volumes: false });
    expect(removal("DELETE", "/containers/abc?force=true&v=1")).toEqual({ container: "abc", volumes: true });
    expect(removal("DELETE", "/containers/abc?v=True&force=TRUE")).toEqual({
      container: "abc",
      volumes: true,
    });
  });

  it("leaves plain removals, link removals and other requests alone", () => {
    expect(removal("DELETE", "/containers/abc")).toBeUndefined();
    expect(removal("DELETE", "/containers/abc?force=0")).toBeUndefined();
    expect(removal("DELETE", "/containers/abc?force=false&v=1")).toBeUndefined();
    expect(removal("DELETE", "/containers/abc?force=1&link=1")).toBeUndefined();
    expect(removal("DELETE", "/volumes/abc?force=1")).toBeUndefined();
  });

  it("reads booleans as Docker does", () => {
    expect(queryBool("1")).toBe(true);
    expect(queryBool("yes")).toBe(true);
    expect(queryBool("0")).toBe(false);
    expect(queryBool("none")).toBe(false);
    expect(queryBool("")).toBe(false);
    expect(queryBool(null)).toBe(false);
  });
});
