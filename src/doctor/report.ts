// What `berth doctor` found, and how it reads: the endpoint and why it was chosen, the engine,
// and each capability berth relies on with its outcome. Pure: the checks live in checks.ts.
import type { DockerEndpoint } from "../engine/docker-host.js";
import type { EngineIdentity } from "../engine/identity.js";

/** `warn`: the engine lacks it, and berth works around it (the detail says how). */
type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
  id: "events" | "oom-events" | "healthchecks" | "memory-limits";
  title: string;
  status: CheckStatus;
  detail: string;
}

export interface DoctorReport {
  endpoint: { url: string; kind: DockerEndpoint["kind"]; source: string; context?: string; tls?: string };
  reachable: boolean;
  /** Why the engine could not be reached (its error code and message), when it could not. */
  error?: { code: string; message: string; hint?: string };
  engine?: EngineIdentity;
  checks: CheckResult[];
}

function describeTls(endpoint: DockerEndpoint): string | undefined {
  if (endpoint.kind !== "tcp" || !endpoint.tls) return undefined;
  const { tls } = endpoint;
  const parts = [
    tls.verify ? "verified against ca.pem" : "without verification",
    tls.cert ? "client certificate" : "no client certificate",
  ];
  return `${parts.join(", ")}${tls.dir ? ` (${tls.dir})` : ""}`;
}

export function endpointFacts(endpoint: DockerEndpoint): DoctorReport["endpoint"] {
  const tls = describeTls(endpoint);
  return {
    url: endpoint.url,
    kind: endpoint.kind,
    source: endpoint.source,
    ...(endpoint.context ? { context: endpoint.context } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** 3 when the engine cannot be reached, 1 when a check failed, else 0. */
export function doctorExitCode(report: DoctorReport): number {
  if (!report.reachable) return 3;
  return report.checks.some((c) => c.status === "fail") ? 1 : 0;
}

const MARK: Record<CheckStatus, string> = { pass: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

export function renderDoctor(report: DoctorReport): string {
  const e = report.endpoint;
  const lines = [
    `endpoint:  ${e.url}`,
    `  chosen:  ${e.source}${e.context ? ` (context ${e.context})` : ""}`,
    ...(e.tls ? [`  tls:     ${e.tls}`] : []),
  ];
  if (!report.reachable) {
    lines.push(
      `engine:    unreachable`,
      `  error:   ${report.error?.message ?? "unknown"} [${report.error?.code}]`,
    );
    if (report.error?.hint) lines.push(`  hint:    ${report.error.hint}`);
    return `${lines.join("\n")}\n`;
  }
  const g = report.engine;
  if (g) {
    lines.push(
      `engine:    ${g.name} ${g.version} (API ${g.apiVersion})`,
      `  os:      ${g.os}, kernel ${g.kernel}`,
      `  cgroup:  v${g.cgroupVersion} (${g.cgroupDriver} driver)`,
      `  storage: ${g.storageDriver}`,
      `  rootless: ${g.rootless ? "yes" : "no"}`,
    );
  }
  lines.push("checks:");
  for (const check of report.checks) lines.push(`  ${MARK[check.status]}  ${check.title}: ${check.detail}`);
  return `${lines.join("\n")}\n`;
}
