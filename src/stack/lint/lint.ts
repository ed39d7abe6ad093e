// `lintCompose`: runs the rules over a loaded project, drops what a service explicitly allows
// (`x-berth: {allow: [rule]}`), and places each finding at the file and line that write it.

import { limitProfileFromExtension } from "../../memory/profile-files.js";
import { type LimitProfile, mergeLimitProfiles } from "../../memory/profiles.js";
import type { ComposeProject } from "../../model/compose.js";
import { type Finding, isRuleId, RULES, type RuleId } from "./finding.js";
import {
  isTestComposeFile,
  type RawFinding,
  type RuleContext,
  SERVICE_RULES,
  type YamlPath,
} from "./rules.js";

/** One Compose file as written, before merging: its parsed YAML. */
export interface LintSource {
  file: string;
  value: unknown;
}

interface LintOptions {
  /** Finds the line and column of a path in a file (the compose loader's `locate`). */
  locate?: (file: string, path: YamlPath) => { line: number; column: number } | undefined;
  /** A limit profile given outside the files (`--profile`); it counts as a memory limit. */
  profile?: LimitProfile;
}

function valueAt(value: unknown, path: YamlPath): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function formatPath(path: YamlPath): string {
  return path
    .map((s, i) =>
      typeof s === "number"
        ? `[${s}]`
        : /^[A-Za-z0-9_-]+$/.test(s)
          ? i
            ? `.${s}`
            : s
          : `[${JSON.stringify(s)}]`,
    )
    .join("");
}

/** Rules each service allows, from `x-berth.allow` in any of the files, and entries that name no rule. */
function allowLists(
  project: ComposeProject,
  sources: LintSource[],
): { allowed: Map<string, Set<RuleId>>; unknown: RawFinding[] } {
  const allowed = new Map<string, Set<RuleId>>();
  const unknown: RawFinding[] = [];
  for (const source of sources) {
    for (const service of Object.keys(project.services)) {
      const path = ["services", service, "x-berth", "allow"];
      const list = valueAt(source.value, path);
      if (list === undefined) continue;
      const entries = Array.isArray(list) ? list : [list];
      entries.forEach((entry, index) => {
        if (isRuleId(entry)) {
          if (!allowed.has(service)) allowed.set(service, new Set());
          allowed.get(service)!.add(entry);
          return;
        }
        unknown.push({
          rule: "allow-unknown",
          service,
          path: Array.isArray(list) ? [...path, index] : path,
          message: `service \`${service}\`: \`x-berth.allow\` lists ${JSON.stringify(entry)}, which is not a lint rule`,
          hint: `Allow one of: ${Object.keys(RULES)
            .filter((r) => r !== "allow-unknown")
            .join(", ")}.`,
        });
      });
    }
  }
  return { allowed, unknown };
}

/** Lints a loaded project. `sources` are its files as written, in merge order. */
export function lintCompose(
  project: ComposeProject,
  sources: LintSource[] = [],
  options: LintOptions = {},
): Finding[] {
  const definingFile = (path: YamlPath): string | undefined =>
    [...sources].reverse().find((s) => valueAt(s.value, path) !== undefined)?.file;
  const context: RuleContext = {
    project,
    profile: mergeLimitProfiles(
      options.profile,
      ...sources.map((s) => limitProfileFromExtension(s.value, s.file)).reverse(),
    ),
    testEnvironment: [...project.files, ...sources.map((s) => s.file)].some(isTestComposeFile),
    definingFile,
  };
  const { allowed, unknown } = allowLists(project, sources);
  const raw = [
    ...Object.values(project.services).flatMap((service) =>
      SERVICE_RULES.flatMap((rule) => rule(service, context)),
    ),
    ...unknown,
  ].filter((f) => !(f.service && allowed.get(f.service)?.has(f.rule)));

  const findings = raw.map((f): Finding => {
    const service = f.service ? project.services[f.service] : undefined;
    const file = f.location?.file ?? definingFile(f.path) ?? service?.location.file ?? project.files[0] ?? "";
    let position: { line?: number; column?: number } | undefined = f.location?.line
      ? { line: f.location.line, column: f.location.column }
      : options.locate?.(file, f.path);
    if (!position?.line && service?.location.file === file) {
      position = { line: service.location.line, column: service.location.column };
    }
    return {
      rule: f.rule,
      severity: RULES[f.rule],
      file,
      ...(position?.line !== undefined ? { line: position.line } : {}),
      ...(position?.column !== undefined ? { column: position.column } : {}),
      path: f.location?.path ?? formatPath(f.path),
      ...(f.service ? { service: f.service } : {}),
      message: f.message,
      hint: f.hint,
    };
  });
  return findings.sort(
    (a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || a.rule.localeCompare(b.rule),
  );
}
