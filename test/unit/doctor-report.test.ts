import { describe, expect, it } from "vitest";
import { type DoctorReport, doctorExitCode, endpointFacts, renderDoctor } from "../../src/doctor/report.js";
import { resolveDockerEndpoint } from "../../src/engine/docker-host.js";

const endpoint = endpointFacts(
  resolveDockerEndpoint(
    { DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS: "1", DOCKER_CERT_PATH: "/nowhere" },
    () => {
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    },
  ),
);

describe("berth doctor's report", () => {
  it("says which endpoint, why, and how TLS is set up", () => {
    expect(endpoint).toEqual({
      url: "tcp://127.0.0.1:2376",
      kind: "tcp",
      source: "DOCKER_HOST",
      tls: "without verification, no client certificate (/nowhere)",
    });
  });

  it("exits 3 when unreachable, 1 when a check failed, 0 with warnings only", () => {
    const unreachable: DoctorReport = {
      endpoint,
      reachable: false,
      error: { code: "BERTH_DAEMON_UNAVAILABLE", message: "no" },
      checks: [],
    };
    expect(doctorExitCode(unreachable)).toBe(3);
    expect(renderDoctor(unreachable)).toContain("engine:    unreachable");
    const warn: DoctorReport = {
      endpoint,
      reachable: true,
      checks: [{ id: "oom-events", title: "OOM kills reported", status: "warn", detail: "probable" }],
    };
    expect(doctorExitCode(warn)).toBe(0);
    expect(doctorExitCode({ ...warn, checks: [{ ...warn.checks[0]!, status: "fail" }] })).toBe(1);
    expect(renderDoctor(warn)).toContain("warn  OOM kills reported: probable");
  });
});
