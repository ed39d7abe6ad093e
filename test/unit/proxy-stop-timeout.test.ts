// The proxy's stop timeout for creates on Podman: a create that names none gets Docker's 10 s,
// one that names any (0 included) keeps it, and what is not a JSON object passes unchanged.
import { describe, expect, it } from "vitest";
import { isPodmanPing, withDefaultStopTimeout } from "../../src/proxy/stop-timeout.js";

const rewrite = (spec: unknown) => {
  const out = withDefaultStopTimeout(Buffer.from(typeof spec === "string" ? spec : JSON.stringify(spec)));
  return out === undefined ? undefined : JSON.parse(out.toString("utf8"));
};

describe("withDefaultStopTimeout", () => {
  it("adds Docker's 10 s to a create that names no stop timeout, keeping the rest", () => {
    expect(rewrite({ Image: "busybox", Cmd: ["true"], Labels: { a: "b" } })).toEqual({
      Image: "busybox",
      Cmd: ["true"],
      Labels: { a: "b" },
      StopTimeout: 10,
    });
    expect(rewrite({ Image: "busybox", StopTimeout: null })).toEqual({ Image: "busybox", StopTimeout: 10 });
  });

  it("keeps a stop timeout the client chose, 0 included", () => {
    expect(rewrite({ Image: "busybox", StopTimeout: 3 })).toBeUndefined();
    expect(rewrite({ Image: "busybox", StopTimeout: 0 })).toBeUndefined();
  });

  it("leaves malformed or non-object bodies to the daemon", () => {
    expect(rewrite("{not json")).toBeUndefined();
    expect(rewrite([1, 2])).toBeUndefined();
    expect(rewrite("null")).toBeUndefined();
  });
});

describe("isPodmanPing", () => {
  it("knows Podman by its Libpod-Api-Version header (node lowercases header names)", () => {
    expect(isPodmanPing({ "libpod-api-version": "4.3.1", "api-version": "1.41" })).toBe(true);
    expect(isPodmanPing({ "api-version": "1.41", server: "Docker/20.10.24+dfsg1 (linux)" })).toBe(false);
  });
});
