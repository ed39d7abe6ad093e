// The labels that make ownership visible on the daemon. Labels are the source of truth: gc,
// leak detection and the reaper select by them; nothing trusts memory across processes.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export const LABELS = {
  session: "berth.session",
  project: "berth.project",
  service: "berth.service",
  owner: "berth.owner",
  created: "berth.created",
  detached: "berth.detached",
  recipe: "berth.recipe",
  /** On every resource of a reusable environment: the hash its reuse is matched by. */
  reuseKey: "berth.reuse.key",
  /** Idle time (ms) after which `berth gc` removes the reusable environment. */
  reuseTtl: "berth.reuse.ttl",
  /** What the key was computed from (files, services, profiles), for `berth ls`'s stale check. */
  reuseSource: "berth.reuse.source",
  /** On lease containers: `take` or `release`. */
  lease: "berth.lease",
  /** On lease containers: the lease generation, 1 and up. */
  leaseGeneration: "berth.lease.generation",
} as const;

export interface OwnerIdentity {
  host: string;
  pid: number;
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22), so a recycled pid is not the owner. */
  startTime: string;
}

/** Reads a process's start time from /proc; undefined when the process does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

export function currentOwner(): OwnerIdentity {
  return { host: hostname(), pid: process.pid, startTime: processStartTime(process.pid) ?? "0" };
}

export function formatOwner(owner: OwnerIdentity): string {
  return `${owner.host}/${owner.pid}/${owner.startTime}`;
}

export function parseOwner(value: string | undefined): OwnerIdentity | undefined {
  if (!value) return undefined;
  const match = /^(.*)\/(\d+)\/(\d+)$/.exec(value);
  if (!match) return undefined;
  return { host: match[1]!, pid: Number(match[2]), startTime: match[3]! };
}

interface SessionLabelInput {
  session: string;
  project?: string;
  service?: string;
  owner?: OwnerIdentity;
  createdAt?: Date;
  /** The session is meant to outlive its owner once it is up (`berth up`): see docs/cleanup.md. */
  detachable?: boolean;
  /** Extra labels, e.g. from BERTH_LABELS, applied to every resource. */
  extra?: Record<string, string>;
}

/** Extra labels from BERTH_LABELS (`k=v,k2=v2`), for tagging a CI job's resources. */
export function extraLabelsFromEnv(
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const raw = env.BERTH_LABELS?.trim();
  if (!raw) return {};
  const labels: Record<string, string> = {};
  for (const pair of raw.split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

export function sessionLabels(input: SessionLabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    ...extraLabelsFromEnv(),
    ...input.extra,
    [LABELS.session]: input.session,
    [LABELS.owner]: formatOwner(input.owner ?? currentOwner()),
    [LABELS.created]: (input.createdAt ?? new Date()).toISOString(),
  };
  if (input.project) labels[LABELS.project] = input.project;
  if (input.service) labels[LABELS.service] = input.service;
  if (input.detachable) labels[LABELS.detached] = "true";
  return labels;
}

/** The Engine API label filter that selects every resource of one session. */
export function sessionFilter(session: string): Record<string, string[]> {
  return { label: [`${LABELS.session}=${session}`] };
}

/** A label selector as people write it: `key=value`, or `key` for "has the label". */
export interface LabelSelector {
  key: string;
  value?: string;
}

export function parseLabelSelector(text: string): LabelSelector | undefined {
  const trimmed = text.trim();
  const eq = trimmed.indexOf("=");
  if (eq === 0 || trimmed === "") return undefined;
  if (eq < 0) return { key: trimmed };
  return { key: trimmed.slice(0, eq), value: trimmed.slice(eq + 1) };
}

export function formatLabelSelector(selector: LabelSelector): string {
  return selector.value === undefined ? selector.key : `${selector.key}=${selector.value}`;
}

export function matchesSelector(labels: Record<string, string>, selector: LabelSelector): boolean {
  if (!(selector.key in labels)) return false;
  return selector.value === undefined || labels[selector.key] === selector.value;
}
