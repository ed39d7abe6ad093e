// Engine differences and endpoint errors that are decided without a daemon: TLS failures named by
// side and cause, unreachable endpoints named with their source, Docker vs Podman from /version,
// Podman's 500 for a taken name, and the query parameters dockerode would send empty.
import { describe, expect, it } from "vitest";
import { classifyEngineError, tlsProblemOf } from "../../src/engine/classify.js";
import { ConflictError, DaemonUnavailableError, TlsError } from "../../src/engine/errors.js";
import { encodeQuery } from "../../src/engine/http.js";
import { identifyEngine } from "../../src/engine/identity.js";
import { matchesLabelFilters } from "../../src/janitor/inventory.js";
import { signalName } from "../../src/lifecycle/safe-remove.js";
import { podmanHealthcheckTest } from "../../src/lifecycle/wait/podman-health.js";

const tlsCtx = {
  operation: "system.ping",
  endpoint: "tcp://127.0.0.1:2376",
  source: "context ci via DOCKER_CONTEXT",
  tls: { dir: "/certs", clientCertificate: true },
};

describe("TLS failures", () => {
  it("names an untrusted daemon certificate with the CA file", () => {
    const e = classifyEngineError(
      { code: "SELF_SIGNED_CERT_IN_CHAIN", message: "self-signed certificate in certificate chain" },
      tlsCtx,
    );
    expect(e).toBeInstanceOf(TlsError);
    expect(e).toMatchObject({
      code: "BERTH_TLS",
      exitCode: 3,
      problem: "server-untrusted",
      source: tlsCtx.source,
    });
    expect(e.message).toContain("/certs/ca.pem");
    expect(e.message).toContain("tcp://127.0.0.1:2376 (context ci via DOCKER_CONTEXT)");
  });

  it("tells the daemon's refusals apart by their alert", () => {
    expect(
      tlsProblemOf(
        { code: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", message: "tlsv13 alert certificate required" },
        false,
      ),
    ).toBe("client-certificate-missing");
    expect(
      tlsProblemOf(
        { code: "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED", message: "sslv3 alert certificate expired" },
        true,
      ),
    ).toBe("client-certificate-expired");
    expect(
      tlsProblemOf(
        { code: "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", message: "sslv3 alert bad certificate" },
        true,
      ),
    ).toBe("client-certificate-rejected");
    expect(tlsProblemOf({ code: "EPROTO", message: "sslv3 alert handshake failure" }, false)).toBe(
      "client-certificate-missing",
    );
    expect(tlsProblemOf({ code: "CERT_HAS_EXPIRED", message: "certificate has expired" }, true)).toBe(
      "server-expired",
    );
    expect(
      tlsProblemOf({ code: "ERR_SSL_WRONG_VERSION_NUMBER", message: "wrong version number" }, true),
    ).toBe("not-tls");
    expect(tlsProblemOf({ code: "ECONNREFUSED" }, true)).toBeUndefined();
  });

  it("says a plain client met a TLS port", () => {
    const e = classifyEngineError(
      { statusCode: 400, json: "Client sent an HTTP request to an HTTPS server.\n" },
      { operation: "system.ping", endpoint: "tcp://127.0.0.1:2376", source: "DOCKER_HOST" },
    );
    expect(e).toMatchObject({ code: "BERTH_TLS", problem: "not-tls" });
  });
});

describe("unreachable endpoints", () => {
  it("name the endpoint and where it came from", () => {
    const e = classifyEngineError({ code: "ECONNREFUSED" }, { ...tlsCtx, tls: undefined });
    expect(e).toBeInstanceOf(DaemonUnavailableError);
    expect(e.message).toBe(
      "Cannot reach the Docker daemon at tcp://127.0.0.1:2376 (from context ci via DOCKER_CONTEXT): ECONNREFUSED during system.ping",
    );
    expect(e.hint).toContain("docker context inspect ci");
    expect(e.toJSON()).toMatchObject({
      endpoint: "tcp://127.0.0.1:2376",
      source: "context ci via DOCKER_CONTEXT",
    });
  });
});

describe("Podman's compat API", () => {
  it("is told from Docker by its version components, with rootless from the security options", () => {
    const podman = identifyEngine(
      { Version: "4.3.1", ApiVersion: "1.41", Components: [{ Name: "Podman Engine", Version: "4.3.1" }] },
      {
        Driver: "overlay",
        CgroupVersion: "2",
        SecurityOptions: ["name=seccomp,profile=default", "name=rootless"],
      },
    );
    expect(podman).toMatchObject({
      kind: "podman",
      name: "Podman",
      version: "4.3.1",
      cgroupVersion: "2",
      rootless: true,
    });
    const docker = identifyEngine(
      { Version: "20.10.24", ApiVersion: "1.41", Components: [{ Name: "Engine", Version: "20.10.24" }] },
      { Driver: "overlay2", SecurityOptions: ["name=seccomp,profile=default"] },
    );
    expect(docker).toMatchObject({
      kind: "docker",
      name: "Docker Engine",
      rootless: false,
      cgroupVersion: "1",
    });
  });

  it("answers a taken name with 500, which is still a name conflict", () => {
    const e = classifyEngineError(
      {
        statusCode: 500,
        json: {
          message:
            'creating container storage: the container name "x" is already in use by abc. You have to remove that container to be able to reuse that name: that name is already in use',
        },
      },
      { operation: "container.create", endpoint: "unix:///run/podman.sock" },
    );
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as ConflictError).reason).toBe("name-in-use");
    const network = classifyEngineError(
      { statusCode: 500, json: { message: "network name p_default already used: network already exists" } },
      { operation: "network.create", endpoint: "unix:///run/podman.sock" },
    );
    expect(network).toMatchObject({ code: "BERTH_CONFLICT", reason: "name-in-use" });
  });

  it("gets no empty query parameters (it parses `buildargs=` and `filters=` and answers 400)", () => {
    expect(
      encodeQuery({
        t: "x",
        buildargs: undefined,
        filters: undefined,
        rm: true,
      }),
    ).toBe("?t=x&rm=true");
  });

  it("joins several label filters on volumes with OR, so berth checks them all itself", () => {
    const labels = { "berth.session": "s1", "berth.validate.scenario": "a" };
    expect(matchesLabelFilters(labels, ["berth.session", "berth.validate.scenario=a"])).toBe(true);
    expect(matchesLabelFilters(labels, ["berth.session", "berth.validate.scenario=b"])).toBe(false);
    expect(matchesLabelFilters(labels, ["berth.other"])).toBe(false);
    expect(matchesLabelFilters(labels, [])).toBe(true);
  });

  it("reports a stop signal as a number", () => {
    expect(signalName("15")).toBe("SIGTERM");
    expect(signalName("9")).toBe("SIGKILL");
    expect(signalName("SIGINT")).toBe("SIGINT");
    expect(signalName("term")).toBe("SIGTERM");
  });
});

describe("Podman's healthcheck tests", () => {
  it("become CMD-SHELL when a word has spaces (Podman would split it), quoted word by word", () => {
    expect(podmanHealthcheckTest(["CMD", "sh", "-c", "wget -q -O- http://db:8080/ | grep -q ok"])).toEqual([
      "CMD-SHELL",
      "sh -c 'wget -q -O- http://db:8080/ | grep -q ok'",
    ]);
    expect(podmanHealthcheckTest(["CMD", "sh", "-c", "echo 'a b'"])).toEqual([
      "CMD-SHELL",
      "sh -c 'echo '\\''a b'\\'''",
    ]);
    expect(podmanHealthcheckTest(["CMD", "wget", "-q", "http://x/"])).toEqual([
      "CMD",
      "wget",
      "-q",
      "http://x/",
    ]);
    expect(podmanHealthcheckTest(["CMD-SHELL", "a b"])).toEqual(["CMD-SHELL", "a b"]);
  });
});
