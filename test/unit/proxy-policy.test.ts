import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classifyRequest } from "../../src/proxy/classify-request.js";
import {
  checkBody,
  checkEndpoint,
  isInside,
  type ProxyPolicy,
  policyReadsBody,
} from "../../src/proxy/policy.js";
import { loadPolicyFile, PolicyFileError, policyFromDocument } from "../../src/proxy/policy-file.js";
import { caught } from "../support/caught.js";

const strict: ProxyPolicy = {
  source: "policy.yaml",
  denyPrivileged: true,
  denyHostNamespaces: ["network", "pid", "ipc"],
  denyEndpoints: ["build", "swarm"],
  allowedBindPaths: ["/tmp/berth", "/srv/data/"],
};

function request(method: string, url: string) {
  const r = classifyRequest(method, url);
  if (!r.ok) throw new Error(r.message);
  return r.request;
}
const create = request("POST", "/v1.41/containers/create");

describe("checkEndpoint", () => {
  it("denies whole endpoint groups and names the rule and the file", () => {
    const denial = checkEndpoint(strict, request("POST", "/v1.41/build?t=x"));
    expect(denial?.rule).toBe("endpoint");
    expect(denial?.message).toMatch(/denies the build endpoints.*deny\.endpoints in policy\.yaml/);
    expect(checkEndpoint(strict, request("GET", "/v1.41/swarm"))?.rule).toBe("endpoint");
    expect(checkEndpoint(strict, request("GET", "/v1.41/containers/json"))).toBeUndefined();
  });
});

describe("checkBody on container create", () => {
  it("denies privileged containers", () => {
    const denial = checkBody(strict, create, { Image: "x", HostConfig: { Privileged: true } });
    expect(denial).toMatchObject({ rule: "privileged" });
    expect(denial?.message).toContain("privileged containers");
    expect(checkBody(strict, create, { Image: "x", HostConfig: { Privileged: false } })).toBeUndefined();
  });

  it("denies host namespaces by mode, but not container: or private modes", () => {
    expect(checkBody(strict, create, { HostConfig: { NetworkMode: "host" } })?.message).toContain(
      "network namespace",
    );
    expect(checkBody(strict, create, { HostConfig: { PidMode: "host" } })?.rule).toBe("host-namespace");
    expect(checkBody(strict, create, { HostConfig: { IpcMode: "host" } })?.rule).toBe("host-namespace");
    expect(
      checkBody(strict, create, { HostConfig: { NetworkMode: "bridge", IpcMode: "private" } }),
    ).toBeUndefined();
    expect(checkBody(strict, create, { HostConfig: { PidMode: "container:abc" } })).toBeUndefined();
    expect(checkBody(strict, create, { HostConfig: { UTSMode: "host" } })).toBeUndefined();
  });

  it("allows bind mounts inside the allowed paths only, from Binds and Mounts", () => {
    expect(
      checkBody(strict, create, { HostConfig: { Binds: ["/tmp/berth/x:/x:ro", "named:/data"] } }),
    ).toBeUndefined();
    expect(checkBody(strict, create, { HostConfig: { Binds: ["/srv/data:/d"] } })).toBeUndefined();
    const denial = checkBody(strict, create, { HostConfig: { Binds: ["/etc:/host-etc"] } });
    expect(denial?.rule).toBe("bind-mount");
    expect(denial?.message).toContain("/etc");
    expect(checkBody(strict, create, { HostConfig: { Binds: ["/tmp/berth/../../etc:/x"] } })?.rule).toBe(
      "bind-mount",
    );
    expect(checkBody(strict, create, { HostConfig: { Binds: ["/tmp/berthless:/x"] } })?.rule).toBe(
      "bind-mount",
    );
    expect(
      checkBody(strict, create, { HostConfig: { Mounts: [{ Type: "bind", Source: "/root", Target: "/r" }] } })
        ?.rule,
    ).toBe("bind-mount");
    expect(
      checkBody(strict, create, { HostConfig: { Mounts: [{ Type: "volume", Source: "v", Target: "/r" }] } }),
    ).toBeUndefined();
  });

  it("sees local volumes that bind a host directory", () => {
    const disguised = {
      Type: "volume",
      Target: "/x",
      VolumeOptions: {
        DriverConfig: { Name: "local", Options: { type: "none", o: "bind", device: "/etc" } },
      },
    };
    expect(checkBody(strict, create, { HostConfig: { Mounts: [disguised] } })?.rule).toBe("bind-mount");
    const volumeCreate = request("POST", "/volumes/create");
    expect(checkBody(strict, volumeCreate, { DriverOpts: { o: "bind", device: "/var/lib" } })?.rule).toBe(
      "bind-mount",
    );
    expect(
      checkBody(strict, volumeCreate, { DriverOpts: { o: "bind", device: "/srv/data/v" } }),
    ).toBeUndefined();
  });

  it("denies privileged exec sessions", () => {
    const exec = request("POST", "/containers/abc/exec");
    expect(checkBody(strict, exec, { Cmd: ["sh"], Privileged: true })?.rule).toBe("privileged");
    expect(checkBody(strict, exec, { Cmd: ["sh"] })).toBeUndefined();
  });

  it("is quiet for a policy that checks nothing, and reads bodies only when it must", () => {
    const open = policyFromDocument({}, "empty.yaml");
    expect(checkBody(open, create, { HostConfig: { Privileged: true, Binds: ["/:/host"] } })).toBeUndefined();
    expect(policyReadsBody(open, create)).toBe(false);
    expect(policyReadsBody(strict, create)).toBe(true);
    expect(policyReadsBody(strict, request("POST", "/networks/create"))).toBe(false);
  });

  it("resolves paths before comparing them", () => {
    expect(isInside("/tmp/berth", "/tmp/berth")).toBe(true);
    expect(isInside("/tmp/berth/a/b", "/tmp/berth/")).toBe(true);
    expect(isInside("/tmp/berth2", "/tmp/berth")).toBe(false);
    expect(isInside("/tmp/berth/../x", "/tmp/berth")).toBe(false);
    expect(isInside("/anything", "/")).toBe(true);
  });
});

describe("policy files", () => {
  it("reads YAML, with `hostNamespaces: true` meaning network, pid and ipc", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-policy-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(
      file,
      "deny:\n  privileged: true\n  hostNamespaces: true\n  endpoints: [build]\nbindMounts:\n  allowed: [/tmp]\n",
    );
    expect(loadPolicyFile(file)).toEqual({
      source: file,
      denyPrivileged: true,
      denyHostNamespaces: ["network", "pid", "ipc"],
      denyEndpoints: ["build"],
      allowedBindPaths: ["/tmp"],
    });
  });

  it("refuses unknown fields and values, naming the field", () => {
    expect(() => policyFromDocument({ deny: { privileged: "yes" } }, "p.yaml")).toThrow(
      /p\.yaml: field `deny\.privileged`/,
    );
    expect(() => policyFromDocument({ deny: { endpoints: ["everything"] } }, "p.yaml")).toThrow(
      /deny\.endpoints\.0/,
    );
    expect(() => policyFromDocument({ denny: {} }, "p.yaml")).toThrow(PolicyFileError);
    expect(() => policyFromDocument({ bindMounts: { allowed: ["relative/path"] } }, "p.yaml")).toThrow(
      /bindMounts\.allowed\.0.*absolute/,
    );
  });

  it("reports unreadable and unparsable files as configuration errors (exit 2)", () => {
    const error = caught<PolicyFileError>(() => loadPolicyFile("/nonexistent/policy.yaml"));
    expect(error?.code).toBe("BERTH_PROXY_POLICY");
    expect(error?.exitCode).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), "berth-policy-"));
    writeFileSync(join(dir, "bad.yaml"), "deny: [unclosed\n");
    expect(() => loadPolicyFile(join(dir, "bad.yaml"))).toThrow(/not valid YAML or JSON/);
  });
});
