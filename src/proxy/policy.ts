// The proxy's policy: which requests it refuses before they reach the daemon. Pure rules over the
// classified request and its JSON body; reading the file lives in policy-file.ts.
import { posix } from "node:path";
import type { ClassifiedRequest, EndpointGroup } from "./classify-request.js";

export const HOST_NAMESPACES = ["network", "pid", "ipc", "uts", "userns"] as const;
export type HostNamespace = (typeof HOST_NAMESPACES)[number];

export interface ProxyPolicy {
  /** Where the policy came from, named in denial messages. */
  source: string;
  denyPrivileged: boolean;
  denyHostNamespaces: HostNamespace[];
  denyEndpoints: EndpointGroup[];
  /** Bind-mount sources must lie inside one of these; undefined: bind mounts are not checked. */
  allowedBindPaths: string[] | undefined;
}

export type DenialRule = "endpoint" | "privileged" | "host-namespace" | "bind-mount";

export interface Denial {
  rule: DenialRule;
  /** Shown by the docker CLI as `Error response from daemon: <message>`. */
  message: string;
}

function deny(policy: ProxyPolicy, rule: DenialRule, what: string, field: string): Denial {
  return { rule, message: `berth proxy policy denies ${what} (${field} in ${policy.source})` };
}

export function checkEndpoint(policy: ProxyPolicy, request: ClassifiedRequest): Denial | undefined {
  if (!policy.denyEndpoints.includes(request.group)) return undefined;
  return deny(policy, "endpoint", `the ${request.group} endpoints (${request.operation})`, "deny.endpoints");
}

/** True when `path` is `base` or lies below it, after resolving `.` and `..`. */
export function isInside(path: string, base: string): boolean {
  const p = posix.resolve("/", path);
  const b = posix.resolve("/", base);
  return p === b || p.startsWith(b === "/" ? "/" : `${b}/`);
}

function checkBind(policy: ProxyPolicy, source: string): Denial | undefined {
  const allowed = policy.allowedBindPaths;
  if (allowed === undefined || allowed.some((base) => isInside(source, base))) return undefined;
  const where = allowed.length === 0 ? "no bind mounts are allowed" : `allowed: ${allowed.join(", ")}`;
  return deny(policy, "bind-mount", `the bind mount of ${source} (${where})`, "bindMounts.allowed");
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (value && typeof value === "object" ? (value as Json) : {});

/** The host paths a container spec bind-mounts, from `Binds` and `Mounts`. */
export function bindSourcesOf(hostConfig: Json): string[] {
  const sources: string[] = [];
  for (const bind of Array.isArray(hostConfig.Binds) ? hostConfig.Binds : []) {
    if (typeof bind !== "string") continue;
    const source = bind.split(":")[0] ?? "";
    // A source that is not an absolute path names a volume, not a host directory.
    if (source.startsWith("/")) sources.push(source);
  }
  for (const mount of Array.isArray(hostConfig.Mounts) ? hostConfig.Mounts : []) {
    const m = asObject(mount);
    if (m.Type === "bind" && typeof m.Source === "string") sources.push(m.Source);
    const driver = asObject(asObject(m.VolumeOptions).DriverConfig);
    const device = bindDeviceOf(asObject(driver.Options));
    if (m.Type === "volume" && device) sources.push(device);
  }
  return sources;
}

/** The host directory a `local` volume with `o=bind` exposes: a bind mount in disguise. */
function bindDeviceOf(options: Json): string | undefined {
  const o = typeof options.o === "string" ? options.o : "";
  const device = options.device;
  return o.split(",").includes("bind") && typeof device === "string" ? device : undefined;
}

const NAMESPACE_FIELDS: Record<HostNamespace, string> = {
  network: "NetworkMode",
  pid: "PidMode",
  ipc: "IpcMode",
  uts: "UTSMode",
  userns: "UsernsMode",
};

/** Checks a request's JSON body against the rules that look inside specs. */
export function checkBody(
  policy: ProxyPolicy,
  request: ClassifiedRequest,
  body: unknown,
): Denial | undefined {
  const spec = asObject(body);
  switch (request.operation) {
    case "container.create": {
      const hostConfig = asObject(spec.HostConfig);
      if (policy.denyPrivileged && hostConfig.Privileged === true) {
        return deny(policy, "privileged", "privileged containers", "deny.privileged");
      }
      for (const ns of policy.denyHostNamespaces) {
        if (hostConfig[NAMESPACE_FIELDS[ns]] === "host") {
          return deny(
            policy,
            "host-namespace",
            `containers in the host's ${ns} namespace`,
            "deny.hostNamespaces",
          );
        }
      }
      for (const source of bindSourcesOf(hostConfig)) {
        const denial = checkBind(policy, source);
        if (denial) return denial;
      }
      return undefined;
    }
    case "container.exec-create":
      return policy.denyPrivileged && spec.Privileged === true
        ? deny(policy, "privileged", "privileged exec sessions", "deny.privileged")
        : undefined;
    case "volume.create": {
      const device = bindDeviceOf(asObject(spec.DriverOpts));
      return device ? checkBind(policy, device) : undefined;
    }
    default:
      return undefined;
  }
}

/** Whether the policy needs to read the body of this request at all. */
export function policyReadsBody(policy: ProxyPolicy, request: ClassifiedRequest): boolean {
  switch (request.operation) {
    case "container.create":
      return (
        policy.denyPrivileged || policy.denyHostNamespaces.length > 0 || policy.allowedBindPaths !== undefined
      );
    case "container.exec-create":
      return policy.denyPrivileged;
    case "volume.create":
      return policy.allowedBindPaths !== undefined;
    default:
      return false;
  }
}
