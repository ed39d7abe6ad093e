// Value forms the loader refuses, written inline: each names its path and the reason.
import { describe, expect, it } from "vitest";
import { caught } from "../support/caught.js";
import { loadText } from "./compose-support.js";

const service = (body: string) => `services:\n  a:\n    image: x\n${body.replace(/^/gm, "    ")}\n`;

describe("values the loader refuses", () => {
  it.each([
    [
      'ports: ["9000-9001:80"]',
      "services.a.ports[0]",
      "a host port range for one container port is not supported",
    ],
    ['ports: ["1:2:3:4"]', "services.a.ports[0]", "too many `:`"],
    ['ports: ["localhost:80:80"]', "services.a.ports[0]", "host IP `localhost` is not an IP address"],
    ['ports: ["0"]', "services.a.ports[0]", "container port 0 is out of range"],
    ['ports: ["80/tcp/x"]', "services.a.ports[0]", "more than one `/`"],
    ['ports: ["90-80"]', "services.a.ports[0]", "ends before it starts"],
    [
      "ports: [{target: 80, published: 'abc'}]",
      "services.a.ports[0]",
      "host port `abc` is not a port number",
    ],
    ["ports: [{target: 80, protocol: icmp}]", "services.a.ports[0]", "protocol `icmp` is not tcp or udp"],
    ['expose: ["http"]', "services.a.expose[0]", "invalid exposed port"],
    ["volumes: ['a:b:c:d']", "services.a.volumes[0]", "expected [SOURCE:]TARGET[:MODE]"],
    ["volumes: ['./x:/x:rx']", "services.a.volumes[0]", "invalid mount mode `rx`"],
    [
      "volumes: [{type: bind, target: /x}]",
      "services.a.volumes[0].source",
      "a bind mount needs a source path",
    ],
    ["volumes: [{type: npipe, target: /x}]", "services.a.volumes[0].type", "expected volume, bind or tmpfs"],
    [
      "volumes: [{type: tmpfs, target: /x, tmpfs: {size: huge}}]",
      "services.a.volumes[0].tmpfs.size",
      "invalid size `huge`",
    ],
    ["tmpfs: ['run']", "services.a.tmpfs[0]", "mount target `run` is not an absolute path"],
    ["tmpfs: '/run:size=lots'", "services.a.tmpfs", "invalid size `lots`"],
    ["healthcheck: {test: ''}", "services.a.healthcheck.test", "healthcheck test is empty"],
    ["healthcheck: {test: [CMD]}", "services.a.healthcheck.test", "healthcheck test CMD has no command"],
    [
      "healthcheck: {test: [CMD, 'true'], retries: -1}",
      "services.a.healthcheck.retries",
      "retries cannot be negative",
    ],
    [
      "healthcheck: {test: [CMD, 'true'], retries: many}",
      "services.a.healthcheck.retries",
      "expected a number of retries",
    ],
    ["healthcheck: {disable: maybe}", "services.a.healthcheck.disable", "expected true or false"],
    ["stop_signal: 'kill -9'", "services.a.stop_signal", "invalid stop signal"],
    [
      "restart: always:3",
      "services.a.restart",
      "restart must be no, always, on-failure[:N] or unless-stopped",
    ],
    ["working_dir: srv", "services.a.working_dir", "working_dir must be an absolute path"],
    ["profiles: ['-bad']", "services.a.profiles[0]", "invalid profile name"],
    ["network_mode: wifi", "services.a.network_mode", "network_mode must be host, none, bridge"],
    ["network_mode: 'service:ghost'", "services.a", "network_mode refers to unknown service ghost"],
    ["environment: ['=1']", "services.a.environment[0]", "an entry needs a name before `=`"],
    [
      "env_file: [{path: a.env, format: json}]",
      "services.a.env_file[0].format",
      "env_file format must be `raw` or absent",
    ],
    ["memswap_limit: 1g", "services.a.memswap_limit", "memswap_limit needs a memory limit"],
    ["mem_reservation: -5m", "services.a.mem_reservation", "invalid size `-5m`"],
    ["privileged: 'yes'", "services.a.privileged", "expected true or false"],
    ["depends_on: [ghost]", "services.a.depends_on[0]", "unknown service ghost"],
    ["depends_on: [a]", "services.a.depends_on[0]", "dependency cycle: a -> a"],
    ["x-berth: {wait: {port: 0}}", "services.a.x-berth.wait.port", "port 0 is out of range"],
    [
      "x-berth: {wait: [{port: 80, log: x}]}",
      "services.a.x-berth.wait[0]",
      "a wait step has exactly one kind",
    ],
    [
      "x-berth: {wait: [{http: {port: 80, path: health}}]}",
      "services.a.x-berth.wait[0].http.path",
      "an HTTP path starts with /",
    ],
    [
      "x-berth: {wait: [{http: {port: 80, status: 42}}]}",
      "services.a.x-berth.wait[0].http.status",
      "between 100 and 599",
    ],
    [
      "x-berth: {wait: [{log: {pattern: x, times: 0}}]}",
      "services.a.x-berth.wait[0].log.times",
      "times must be 1 or more",
    ],
    ["x-berth: {wait: [{command: []}]}", "services.a.x-berth.wait[0].command", "the wait command is empty"],
    ["x-berth: {wait: [sleep]}", "services.a.x-berth.wait[0]", "expected a wait step"],
    ["x-berth: {timeout: 30}", "services.a.x-berth.timeout", "invalid duration `30`"],
    ["labels: {berth.project: x}", 'services.a.labels["berth.project"]', "reserved"],
    ["build: {context: ., args: 5}", "services.a.build.args", "expected a mapping of build arguments"],
    ["build: 5", "services.a.build", "expected a context directory or a mapping"],
  ])("%s", async (body, path, message) => {
    const error = await caught(loadText(service(body), { extra: { "a.env": "A=1\n" } }));
    expect(error).toMatchObject({ code: "BERTH_COMPOSE", path });
    expect(error.message).toContain(message);
  });

  it("refuses a top-level network or volume name Docker cannot use", async () => {
    const error = await caught(loadText("services:\n  a:\n    image: x\nnetworks:\n  'bad name':\n"));
    expect(error).toMatchObject({ path: 'networks["bad name"]', line: 5 });
  });

  it("refuses when every service is behind an inactive profile, naming the profiles", async () => {
    const error = await caught(loadText("services:\n  a:\n    image: x\n    profiles: [dev]\n"));
    expect(error.message).toContain("no services enabled");
    expect(error).toMatchObject({ path: "services", hint: expect.stringContaining("dev") });
  });
});
