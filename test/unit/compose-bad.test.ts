// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} syntax is what these strings test.
// The corpus of bad Compose files: each one is refused with its own specific error, naming the
// file, the line and column (where the parser gives them), the path and the bad value.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { ComposeError, loadCompose } from "../../src/stack/compose/index.js";
import { caught } from "../support/caught.js";
import { FIXTURES, loadText } from "./compose-support.js";

const BAD = join(FIXTURES, "bad");
/** Override cases are merged after this (valid) base file. */
const BASE = "base-for-overrides.yml";

interface Case {
  file: string;
  message: string | RegExp;
  path?: string;
  line?: number;
  column?: number;
  value?: unknown;
}

const CASES: Case[] = [
  { file: "invalid-yaml.yml", message: "invalid YAML: Map keys must be unique", line: 5, column: 5 },
  {
    file: "multi-document.yml",
    message: "holds one YAML document, this one has several",
    line: 5,
    column: 1,
  },
  { file: "empty.yml", message: "the compose file is empty" },
  { file: "not-a-mapping.yml", message: "a compose file must be a mapping", path: "", line: 2, column: 1 },
  { file: "no-services.yml", message: "no services defined", path: "services", line: 2, column: 1 },
  {
    file: "unknown-dependency.yml",
    message: "service api depends on unknown service cache",
    path: "services.api.depends_on[1]",
    line: 7,
    column: 9,
    value: "cache",
  },
  {
    file: "cycle.yml",
    message: "dependency cycle: api -> db -> api",
    path: "services.api.depends_on.db",
    line: 6,
  },
  {
    file: "cycle-three.yml",
    message: "dependency cycle: a -> b -> c -> a",
    path: "services.a.depends_on[0]",
    line: 5,
  },
  {
    file: "invalid-size.yml",
    message: "invalid size `12x`",
    path: "services.api.mem_limit",
    line: 5,
    column: 5,
  },
  {
    file: "memory-below-minimum.yml",
    message: "memory limit `1m` is below Docker's minimum of 6 MiB",
    path: "services.api.deploy.resources.limits.memory",
    line: 8,
  },
  {
    file: "duration-without-unit.yml",
    message: "invalid duration `10` (a unit is required)",
    path: "services.api.healthcheck.interval",
    line: 7,
  },
  {
    file: "invalid-duration.yml",
    message: "invalid duration `soon`",
    path: "services.api.stop_grace_period",
    line: 5,
  },
  {
    file: "memory-conflict.yml",
    message: "conflicts with services.api.mem_limit (256 MiB vs 512 MiB)",
    path: "services.api.deploy.resources.limits.memory",
    line: 9,
  },
  {
    file: "missing-required-variable.yml",
    message: "required variable BERTH_TEST_UNSET_PASSWORD is missing a value: set the database password",
    path: "services.db.environment.PASSWORD",
    line: 6,
    value: "${BERTH_TEST_UNSET_PASSWORD:?set the database password}",
  },
  {
    file: "invalid-port.yml",
    message: "invalid port: host port 99999 is out of range 1-65535",
    path: "services.api.ports[1]",
    line: 7,
    column: 9,
    value: "99999:80",
  },
  {
    file: "invalid-port-protocol.yml",
    message: "protocol `sctp` is not tcp or udp",
    path: "services.api.ports[0]",
    line: 6,
  },
  {
    file: "port-range-mismatch.yml",
    message: "host and container port ranges have different lengths",
    path: "services.api.ports[0]",
    line: 6,
  },
  {
    file: "invalid-port-long.yml",
    message: "`target` is required",
    path: "services.api.ports[0].target",
    line: 6,
  },
  {
    file: "wrong-type-image.yml",
    message: "expected an image reference",
    path: "services.api.image",
    line: 4,
    value: ["berth-fixture/busybox", "1.35.0"],
  },
  {
    file: "unknown-condition.yml",
    message: "expected service_started, service_healthy or service_completed_successfully",
    path: "services.api.depends_on.db.condition",
    line: 7,
    value: "service_ready",
  },
  {
    file: "no-image-or-build.yml",
    message: "service api has neither image nor build",
    path: "services.api",
    line: 3,
  },
  {
    file: "undefined-volume.yml",
    message: "service db refers to undefined volume dbdata",
    path: "services.db.volumes[1]",
    line: 7,
  },
  {
    file: "undefined-network.yml",
    message: "service api refers to undefined network backend",
    path: "services.api.networks[0]",
    line: 6,
  },
  {
    file: "healthcheck-test-form.yml",
    message: "a healthcheck test list must start with CMD, CMD-SHELL or NONE",
    path: "services.api.healthcheck.test",
    line: 6,
  },
  {
    file: "invalid-interpolation.yml",
    message: "invalid interpolation: `$` must start a variable",
    path: "services.api.command[1]",
    line: 5,
    value: "costs $5",
  },
  {
    file: "unterminated-interpolation.yml",
    message: "unterminated `${`",
    path: "services.api.image",
    line: 4,
  },
  {
    file: "reserved-label.yml",
    message: "labels starting with `berth.` are reserved",
    path: 'services.api.labels["berth.session"]',
    line: 7,
  },
  {
    file: "relative-mount-target.yml",
    message: "mount target `data` is not an absolute path",
    path: "services.api.volumes[0]",
    line: 6,
  },
  {
    file: "swap-below-limit.yml",
    message: "memswap_limit 32 MiB is below the memory limit 64 MiB",
    path: "services.api.memswap_limit",
    line: 6,
  },
  {
    file: "reservation-above-limit.yml",
    message: "memory reservation 128 MiB is above the limit 64 MiB",
    path: "services.api.mem_reservation",
    line: 6,
  },
  {
    file: "network-mode-and-networks.yml",
    message: "network_mode and networks cannot be combined",
    path: "services.api.networks",
    line: 6,
  },
  {
    file: "disabled-dependency.yml",
    message: "service api needs seed, which is disabled",
    path: "services.api.depends_on[0]",
    line: 5,
  },
  {
    file: "invalid-restart.yml",
    message: "restart must be no, always, on-failure[:N] or unless-stopped",
    path: "services.api.restart",
    line: 5,
    value: "sometimes",
  },
  { file: "invalid-service-name.yml", message: "invalid service name", path: 'services["my api"]', line: 3 },
  {
    file: "invalid-project-name.yml",
    message: "invalid project name",
    path: "name",
    line: 2,
    value: "My_Project",
  },
  {
    file: "unterminated-quote.yml",
    message: "cannot split command: unterminated double quote",
    path: "services.api.command",
    line: 5,
  },
  {
    file: "invalid-wait-pattern.yml",
    message: "invalid log pattern",
    path: "services.api.x-berth.wait[0].log",
    line: 7,
    value: "ready (",
  },
  {
    file: "cpus-conflict.yml",
    message: "conflicts with services.api.cpus (1 vs 0.5)",
    path: "services.api.deploy.resources.limits.cpus",
    line: 9,
  },
  {
    file: "environment-wrong-type.yml",
    message: "expected a mapping of NAME: value or a list of NAME=value",
    path: "services.api.environment",
    line: 5,
  },
  { file: "invalid-cpus.yml", message: "cpus must be a number above 0", path: "services.api.cpus", line: 5 },
  {
    file: "missing-env-file.yml",
    message: /env_file .*does-not-exist\.env cannot be read \(ENOENT\)/,
    path: "services.api.env_file",
    line: 5,
  },
  {
    file: "override-wrong-type.yml",
    message: "expected a list of ports",
    path: "services.api.ports",
    line: 4,
  },
  {
    file: "override-memory-conflict.yml",
    message: "conflicts with services.api.mem_limit (256 MiB vs 1 GiB)",
    path: "services.api.deploy.resources.limits.memory",
    line: 7,
  },
];

const filesFor = (file: string) => (file.startsWith("override-") ? [BASE, file] : [file]);

describe("the bad compose corpus", () => {
  it("has at least 20 files, each with its expected error in this table", () => {
    const files = readdirSync(BAD).filter((f) => f.endsWith(".yml") && f !== BASE);
    expect(files.length).toBeGreaterThanOrEqual(20);
    expect(files.sort()).toEqual(CASES.map((c) => c.file).sort());
  });

  it.each(CASES)("$file", async (expected) => {
    const error = await caught(loadCompose({ files: filesFor(expected.file), cwd: BAD, env: {} }));
    expect(error).toBeInstanceOf(ComposeError);
    expect(error).toBeInstanceOf(ConfigError);
    const compose = error as unknown as ComposeError;
    expect(compose.code).toBe("BERTH_COMPOSE");
    expect(compose.exitCode).toBe(2);
    expect(compose.file).toBe(join(BAD, expected.file));
    if (typeof expected.message === "string") expect(compose.message).toContain(expected.message);
    else expect(compose.message).toMatch(expected.message);
    if (expected.path !== undefined) expect(compose.path).toBe(expected.path);
    if (expected.line !== undefined) expect(compose.line).toBe(expected.line);
    if (expected.column !== undefined) expect(compose.column).toBe(expected.column);
    if (expected.value !== undefined) expect(compose.value).toEqual(expected.value);
    // The message itself names the file and, where known, line and path.
    expect(compose.message).toContain(expected.file);
    if (compose.line !== undefined) expect(compose.message).toContain(`${expected.file}:${compose.line}:`);
    if (compose.path) expect(compose.message).toContain(compose.path);
  });
});

describe("bad input written at test time", () => {
  // The repository's linter refuses tab-indented YAML, so this file is not kept in the corpus.
  it("tab indentation is invalid YAML, with its line and column", async () => {
    const error = await caught(loadText("services:\n\tapi:\n    image: x\n"));
    expect(error).toMatchObject({ code: "BERTH_COMPOSE", line: 2, column: 1 });
    expect(error.message).toContain("invalid YAML: Tabs are not allowed as indentation");
  });
});
