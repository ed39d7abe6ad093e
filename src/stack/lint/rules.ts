// The lint rules, each a pure function of the merged project and the raw files. A rule reports
// what it found and the YAML path it is about; lint.ts turns paths into files and lines.

import { type LimitProfile, matchLimitRule } from "../../memory/profiles.js";
import type { ComposeProject, ServiceSpec, SourceLocation } from "../../model/compose.js";
import type { RuleId } from "./finding.js";

export type YamlPath = ReadonlyArray<string | number>;

export interface RawFinding {
  rule: RuleId;
  service?: string;
  /** The path the finding is about; lint.ts finds the file that writes it. */
  path: YamlPath;
  /** A location the model already knows (ports carry one). */
  location?: SourceLocation;
  message: string;
  hint: string;
}

export interface RuleContext {
  project: ComposeProject;
  /** Profile from options and the files' top-level `x-berth`. */
  profile: LimitProfile | undefined;
  /** True when one of the project's files is a test file (e.g. `compose.test.yml`). */
  testEnvironment: boolean;
  /** The file that writes `path` last (an override beats the base file). */
  definingFile(path: YamlPath): string | undefined;
}

type Rule = (service: ServiceSpec, context: RuleContext) => RawFinding[];

const memoryLimit: Rule = (service, { profile }) => {
  if (service.memory.limitBytes !== undefined || matchLimitRule(profile, service.name)) return [];
  return [
    {
      rule: "memory-limit",
      service: service.name,
      path: ["services", service.name],
      location: service.location,
      message: `service \`${service.name}\` has no memory limit: it can take the machine's memory and starve the others`,
      hint: "Add `mem_limit: 256m` (measure with `berth stats --advise`) or give it one in a limit profile (`x-berth: {limits: {...}}`).",
    },
  ];
};

const fixedHostPort: Rule = (service) =>
  service.ports.flatMap((port, index) =>
    port.published === undefined
      ? []
      : [
          {
            rule: "fixed-host-port" as const,
            service: service.name,
            path: ["services", service.name, "ports", index],
            location: port.location,
            message: `service \`${service.name}\` publishes fixed host port ${port.published} (container port ${port.target}/${port.protocol}): parallel runs of this file collide on it`,
            hint: `Leave the host port out (\`- "${port.target}"\`) and read the one the daemon picked from berth's endpoints (\`berth up --env\`).`,
          },
        ],
  );

/** A setting that opens the host to the service; `x-berth: {allow: [rule]}` says it is meant. */
function hostAccessRule(
  rule: RuleId,
  setting: {
    key: string;
    present: (service: ServiceSpec) => boolean;
    /** What the service does and what that costs, after its name. */
    effect: string;
    /** The setting to drop, and what to use instead. */
    drop: string;
  },
): Rule {
  return (service) =>
    setting.present(service)
      ? [
          {
            rule,
            service: service.name,
            path: ["services", service.name, setting.key],
            message: `service \`${service.name}\` ${setting.effect}`,
            hint: `Drop ${setting.drop}; if the service really needs it, say so: \`x-berth: {allow: [${rule}]}\`.`,
          },
        ]
      : [];
}

const privileged = hostAccessRule("privileged", {
  key: "privileged",
  present: (service) => service.privileged === true,
  effect: "runs privileged: it has every capability and all host devices",
  drop: "`privileged: true` (grant single capabilities with cap_add instead)",
});

const hostNetwork = hostAccessRule("host-network", {
  key: "network_mode",
  present: (service) => service.networkMode === "host",
  effect: "uses `network_mode: host`: its ports collide between runs and it reaches everything on the host",
  drop: "`network_mode: host` (publish ports instead)",
});

const hostPid = hostAccessRule("host-pid", {
  key: "pid",
  present: (service) => service.pid === "host",
  effect: "uses `pid: host`: it sees and can signal every process on the host",
  drop: "`pid: host`",
});

function hasHealthcheck(service: ServiceSpec): boolean {
  const check = service.healthcheck;
  return check !== undefined && !check.disable && check.test.length > 0 && check.test[0] !== "NONE";
}

const healthcheckMissing: Rule = (service, { project }) => {
  if (hasHealthcheck(service)) return [];
  const waiting = Object.values(project.services)
    .filter((other) =>
      other.dependsOn.some((d) => d.service === service.name && d.condition === "service_healthy"),
    )
    .map((other) => `\`${other.name}\``);
  if (waiting.length === 0) return [];
  return [
    {
      rule: "healthcheck-missing",
      service: service.name,
      path: ["services", service.name],
      location: service.location,
      message: `service \`${service.name}\` has no healthcheck, but ${waiting.join(", ")} wait${waiting.length === 1 ? "s" : ""} for it with \`condition: service_healthy\``,
      hint: 'Add a `healthcheck:` that tests the service for real (e.g. `test: ["CMD", "pg_isready"]`), or wait for `service_started`.',
    },
  ];
};

/** The tag of an image reference; undefined when it has none. Digests count as pinned. */
export function imageTag(image: string): { tag?: string; digest: boolean } {
  if (image.includes("@")) return { digest: true };
  const last = image.slice(image.lastIndexOf("/") + 1);
  const colon = last.indexOf(":");
  return { tag: colon >= 0 ? last.slice(colon + 1) : undefined, digest: false };
}

const imageUnpinned: Rule = (service) => {
  // An image berth builds from the file is named by the file, not pulled: nothing to pin.
  if (!service.image || service.build) return [];
  const { tag, digest } = imageTag(service.image);
  if (digest || (tag !== undefined && tag !== "latest")) return [];
  return [
    {
      rule: "image-unpinned",
      service: service.name,
      path: ["services", service.name, "image"],
      message:
        tag === undefined
          ? `service \`${service.name}\` uses image \`${service.image}\` without a tag, which means \`latest\``
          : `service \`${service.name}\` uses image \`${service.image}\`: \`latest\` changes under you`,
      hint: `Pin a version (\`${service.image.replace(/:latest$/, "")}:1.2.3\`) or a digest, so every run tests the same image.`,
    },
  ];
};

const restartInTests: Rule = (service, { testEnvironment }) => {
  if (!testEnvironment || service.restart === undefined || service.restart === "no") return [];
  return [
    {
      rule: "restart-in-tests",
      service: service.name,
      path: ["services", service.name, "restart"],
      message: `service \`${service.name}\` has \`restart: ${service.restart}\` in a test environment: a crash hides behind a restart and shows up as a flaky test`,
      hint: 'Set `restart: "no"` in the test file; berth reports services that die during a run.',
    },
  ];
};

export const SERVICE_RULES: Rule[] = [
  memoryLimit,
  fixedHostPort,
  privileged,
  hostNetwork,
  hostPid,
  healthcheckMissing,
  imageUnpinned,
  restartInTests,
];

/** Test files by name: `compose.test.yml`, `docker-compose.e2e.yaml`, `test-compose.yml`, `ci.yml`. */
export function isTestComposeFile(file: string): boolean {
  const base = file.slice(file.lastIndexOf("/") + 1);
  return /(^|[._-])(test|tests|e2e|ci|integration)([._-]|$)/i.test(base);
}
