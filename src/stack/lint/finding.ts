// What lint reports: one finding per problem, with a stable rule id scripts can test, where it
// is written (file, line, column, path) and how to fix it.

export const RULES = {
  "memory-limit": "error",
  "fixed-host-port": "error",
  privileged: "error",
  "host-network": "error",
  "host-pid": "error",
  "healthcheck-missing": "error",
  "image-unpinned": "warning",
  "restart-in-tests": "warning",
  "allow-unknown": "warning",
} as const;

export type RuleId = keyof typeof RULES;
type Severity = "error" | "warning";

export function isRuleId(value: unknown): value is RuleId {
  return typeof value === "string" && Object.hasOwn(RULES, value);
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  /** Absolute path of the file the finding is in. */
  file: string;
  line?: number;
  column?: number;
  /** Path inside the file, e.g. `services.api.ports[0]`. */
  path: string;
  service?: string;
  message: string;
  /** How to fix it. */
  hint: string;
}

export function countFindings(findings: Finding[]): { errors: number; warnings: number } {
  const errors = findings.filter((f) => f.severity === "error").length;
  return { errors, warnings: findings.length - errors };
}
