// Each Compose key berth honours reaches the container-create body (or the copy-in list) as the
// Engine API expects it; loaded from YAML so the model and the body are checked together.
import { describe, expect, it } from "vitest";
import { containerConfig, networksFor } from "../../src/stack/container-config.js";
import { tarArchive, tarHeader } from "../../src/stack/file-archive.js";
import { networkCreateSpec } from "../../src/stack/resources.js";
import { STACK_LABELS } from "../../src/stack/stack-labels.js";
import { caught } from "../support/caught.js";
import { loadText } from "./compose-support.js";

const input = {
  name: "p-api-1",
  image: "img",
  labels: {},
  volumeLabels: { [STACK_LABELS.volumeKind]: "anonymous" },
  volumeNames: {},
  networks: [{ name: "p_default", aliases: ["api"] }],
  memory: {},
  oneShot: false,
};

async function service(yaml: string, env: Record<string, string> = {}, extra: Record<string, string> = {}) {
  const { project } = await loadText(`services:\n  api:\n    image: img\n${yaml}`, { env, extra });
  return { spec: project.services.api!, project };
}

async function body(yaml: string, env: Record<string, string> = {}, extra: Record<string, string> = {}) {
  const { spec } = await service(yaml, env, extra);
  return containerConfig(spec, input);
}

describe("container options from the file", () => {
  it("init, capabilities, read_only, security_opt, stdin_open, tty", async () => {
    const { body: b } = await body(
      "    init: true\n    cap_add: [net_admin, CAP_SYS_TIME]\n    cap_drop: [ALL]\n    read_only: true\n" +
        "    security_opt: [no-new-privileges:true]\n    stdin_open: true\n    tty: true\n",
    );
    expect(b.HostConfig).toMatchObject({
      Init: true,
      CapAdd: ["NET_ADMIN", "SYS_TIME"],
      CapDrop: ["ALL"],
      ReadonlyRootfs: true,
      SecurityOpt: ["no-new-privileges:true"],
    });
    expect(b).toMatchObject({ OpenStdin: true, Tty: true });
  });

  it("ulimits (single number and soft/hard), sysctls (map and list), shm_size", async () => {
    const { body: b } = await body(
      "    ulimits:\n      nproc: 512\n      nofile: {soft: 1024, hard: 2048}\n" +
        "    sysctls: [net.core.somaxconn=1024]\n    shm_size: 64m\n",
    );
    expect(b.HostConfig).toMatchObject({
      Ulimits: [
        { Name: "nproc", Soft: 512, Hard: 512 },
        { Name: "nofile", Soft: 1024, Hard: 2048 },
      ],
      Sysctls: { "net.core.somaxconn": "1024" },
      ShmSize: 64 * 1024 * 1024,
    });
    const map = await body("    sysctls:\n      net.ipv4.tcp_syncookies: 0\n");
    expect(map.body.HostConfig.Sysctls).toEqual({ "net.ipv4.tcp_syncookies": "0" });
  });

  it("extra_hosts as a list or a map, IPv6 brackets removed", async () => {
    const list = await body('    extra_hosts: ["a.test:10.0.0.1", "b.test=::1", "gw:host-gateway"]\n');
    expect(list.body.HostConfig.ExtraHosts).toEqual(["a.test:10.0.0.1", "b.test:::1", "gw:host-gateway"]);
    const map = await body('    extra_hosts:\n      c.test: "[::2]"\n');
    expect(map.body.HostConfig.ExtraHosts).toEqual(["c.test:::2"]);
  });

  it("devices, short and long", async () => {
    const { body: b } = await body(
      "    devices:\n      - /dev/fuse\n      - /dev/sda:/dev/xvda:r\n      - {source: /dev/kmsg, permissions: rw}\n",
    );
    expect(b.HostConfig.Devices).toEqual([
      { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" },
      { PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r" },
      { PathOnHost: "/dev/kmsg", PathInContainer: "/dev/kmsg", CgroupPermissions: "rw" },
    ]);
  });

  it("platform, logging, hostname, domainname, namespaces and limits", async () => {
    const { body: b } = await body(
      "    platform: linux/amd64\n    logging:\n      driver: json-file\n      options: {max-size: 10m, max-file: 3}\n" +
        "    hostname: api.local\n    domainname: example.test\n    ipc: shareable\n    uts: host\n" +
        "    pids_limit: 100\n    oom_score_adj: 500\n    group_add: [audio, 1000]\n    dns_search: corp.test\n" +
        "    dns_opt: [ndots:2]\n    cpu_shares: 512\n    cpuset: 0-1\n    mem_swappiness: 0\n",
    );
    expect(b).toMatchObject({ platform: "linux/amd64", Hostname: "api.local", Domainname: "example.test" });
    expect(b.HostConfig).toMatchObject({
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      IpcMode: "shareable",
      UTSMode: "host",
      PidsLimit: 100,
      OomScoreAdj: 500,
      GroupAdd: ["audio", "1000"],
      DnsSearch: ["corp.test"],
      DnsOptions: ["ndots:2"],
      CpuShares: 512,
      CpusetCpus: "0-1",
      MemorySwappiness: 0,
    });
  });

  it("deploy.resources.limits.pids is the pids limit", async () => {
    const { body: b } = await body("    deploy:\n      resources:\n        limits: {pids: 50}\n");
    expect(b.HostConfig.PidsLimit).toBe(50);
  });

  it("sets nothing the file does not ask for", async () => {
    const { body: b, copyIn } = await body("");
    expect(Object.keys(b.HostConfig).sort()).toEqual([
      "Mounts",
      "NetworkMode",
      "PortBindings",
      "RestartPolicy",
    ]);
    expect(b.Hostname).toBeUndefined();
    expect(copyIn).toEqual([]);
  });

  it("refuses bad values at their line", async () => {
    for (const [yaml, path] of [
      ["    cap_add: ['not a cap']\n", "services.api.cap_add[0]"],
      ["    ulimits:\n      nofile: {soft: 10, hard: 5}\n", "services.api.ulimits.nofile"],
      ["    devices: [dev/fuse]\n", "services.api.devices[0]"],
      ["    platform: amd64\n", "services.api.platform"],
      ["    pull_policy: sometimes\n", "services.api.pull_policy"],
      ["    extra_hosts: [nohost]\n", "services.api.extra_hosts[0]"],
      ["    hostname: -bad-\n", "services.api.hostname"],
      ["    mem_swappiness: 101\n", "services.api.mem_swappiness"],
    ] as const) {
      const error = await caught(service(yaml));
      expect(error.path, yaml).toBe(path);
    }
  });
});

describe("names on the network: container_name and hostname", () => {
  it("are DNS aliases on every network; the real container name stays berth's", async () => {
    const { spec } = await service(
      "    container_name: edge\n    hostname: web.local\n    networks: [default, back]\nnetworks:\n  back: {}\n",
    );
    const { body: b, laterNetworks } = containerConfig(spec, {
      ...input,
      networks: networksFor(spec, { networks: { default: "p_default", back: "p_back" } }),
    });
    expect(b.name).toBe("p-api-1");
    expect(b.NetworkingConfig!.EndpointsConfig.p_default!.Aliases).toEqual(["api", "edge", "web.local"]);
    expect(laterNetworks).toEqual([{ name: "p_back", aliases: ["api", "edge", "web.local"] }]);
  });
});

describe("ipv4_address and ipam", () => {
  const yaml =
    "    networks:\n      back: {}\n      front: {ipv4_address: 172.28.5.10}\nnetworks:\n  back: {}\n  front:\n" +
    "    ipam:\n      config:\n        - {subnet: 172.28.5.0/24, gateway: 172.28.5.1, ip_range: 172.28.5.0/25}\n";

  it("connects the network with the fixed address at create", async () => {
    const { spec, project } = await service(yaml);
    expect(spec.networks.map((n) => n.name)).toEqual(["front", "back"]);
    const { body: b } = containerConfig(spec, {
      ...input,
      networks: networksFor(spec, { networks: { front: "p_front", back: "p_back" } }),
    });
    expect(b.NetworkingConfig!.EndpointsConfig.p_front).toEqual({
      Aliases: ["api"],
      IPAMConfig: { IPv4Address: "172.28.5.10" },
    });
    expect(networkCreateSpec("p_front", project.networks.front, { l: "1" })).toEqual({
      Name: "p_front",
      Driver: "bridge",
      Labels: { l: "1" },
      CheckDuplicate: true,
      IPAM: {
        Driver: "default",
        Config: [{ Subnet: "172.28.5.0/24", Gateway: "172.28.5.1", IPRange: "172.28.5.0/25" }],
      },
    });
  });

  it("refuses a fixed address on two networks, a bad address or subnet, and replicas with one", async () => {
    const two =
      "    networks:\n      a: {ipv4_address: 10.1.0.2}\n      b: {ipv4_address: 10.2.0.2}\nnetworks: {a: {}, b: {}}\n";
    expect((await caught(service(two))).message).toContain("one network per service");
    expect(
      (await caught(service("    networks:\n      a: {ipv4_address: 10.1.0}\nnetworks: {a: {}}\n"))).path,
    ).toBe("services.api.networks.a.ipv4_address");
    expect(
      (
        await caught(
          service("    networks: [a]\nnetworks:\n  a:\n    ipam:\n      config: [{subnet: 10.1.0.0}]\n"),
        )
      ).path,
    ).toBe("networks.a.ipam.config[0].subnet");
    expect((await caught(service("    container_name: x\n    deploy: {replicas: 2}\n"))).message).toContain(
      "2 replicas but one fixed container_name",
    );
  });
});

describe("secrets and configs", () => {
  it("bind-mounts file sources read-only at /run/secrets/NAME and the config's target", async () => {
    const { body: b, copyIn } = await body(
      "    secrets: [token]\n    configs: [{source: conf, target: /etc/app.conf}]\n" +
        "secrets:\n  token: {file: ./token.txt}\nconfigs:\n  conf: {file: ./app.conf}\n",
      {},
      { "token.txt": "s3cret", "app.conf": "x=1" },
    );
    expect(b.HostConfig.Binds).toEqual([
      expect.stringMatching(/\/token\.txt:\/run\/secrets\/token:ro$/),
      expect.stringMatching(/\/app\.conf:\/etc\/app\.conf:ro$/),
    ]);
    expect(copyIn).toEqual([]);
  });

  it("copies environment and content sources, and files with an owner or mode, in before start", async () => {
    const { spec, project } = await service(
      "    secrets:\n      - pw\n      - {source: key, target: keys/k, uid: '70', mode: 0400}\n    configs: [inline]\n" +
        "secrets:\n  pw: {environment: PW}\n  key: {file: ./k.txt}\nconfigs:\n  inline: {content: 'a=1'}\n",
      { PW: "hunter2" },
      { "k.txt": "key" },
    );
    const { copyIn } = containerConfig(spec, input);
    expect(copyIn.map((f) => [f.target, f.mode, f.uid])).toEqual([
      ["/run/secrets/pw", 0o444, undefined],
      ["/run/secrets/keys/k", 0o400, "70"],
      ["/inline", 0o444, undefined],
    ]);
    // The environment value is in the model but never in its printed or serialised form.
    expect((spec.secrets![0]!.source as { value: string }).value).toBe("hunter2");
    expect(JSON.stringify(project)).not.toContain("hunter2");
  });

  it("refuses undeclared, unset, missing and ambiguous sources", async () => {
    expect((await caught(service("    secrets: [nope]\n"))).message).toContain("undefined secret nope");
    expect((await caught(service("secrets:\n  pw: {environment: UNSET}\n"))).message).toContain(
      "the variable UNSET is not set",
    );
    expect((await caught(service("configs:\n  c: {file: ./missing.conf}\n"))).message).toContain(
      "does not exist",
    );
    expect((await caught(service("configs:\n  c: {file: ./a, content: b}\n"))).message).toContain(
      "exactly one of",
    );
    expect(
      (
        await caught(
          service("    secrets: [{source: s, uid: root}]\nsecrets:\n  s: {environment: X}\n", { X: "1" }),
        )
      ).path,
    ).toBe("services.api.secrets[0].uid");
  });
});

describe("the copy-in archive", () => {
  it("writes ustar headers with a valid checksum, padding and the end blocks", () => {
    const archive = tarArchive([
      { path: "run/secrets/pw", content: Buffer.from("hunter2"), mode: 0o400, uid: 70, gid: 0 },
    ]);
    expect(archive.length).toBe(512 + 512 + 1024);
    const header = archive.subarray(0, 512);
    expect(header.toString("utf8", 0, 14)).toBe("run/secrets/pw");
    expect(header.toString("utf8", 100, 107)).toBe("0000400");
    expect(header.toString("utf8", 108, 115)).toBe("0000106");
    expect(header.toString("utf8", 257, 262)).toBe("ustar");
    const stored = Number.parseInt(header.toString("utf8", 148, 154), 8);
    const copy = Buffer.from(header);
    copy.fill(" ", 148, 156);
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0));
    expect(archive.toString("utf8", 512, 519)).toBe("hunter2");
  });

  it("puts long paths into the prefix field", () => {
    const long = `${"d/".repeat(60)}file`;
    const header = tarHeader({ path: long, size: 0, mode: 0o444, uid: 0, gid: 0 });
    expect(header.toString("utf8", 0, 4)).toBe("file");
    expect(header.toString("utf8", 345, 345 + 119)).toBe(long.slice(0, 119));
  });
});

describe("pull_policy and replicas in the model", () => {
  it("maps if_not_present to missing and reads replicas from deploy or scale", async () => {
    expect((await service("    pull_policy: if_not_present\n")).spec.pullPolicy).toBe("missing");
    expect((await service("    deploy: {replicas: 3}\n")).spec.replicas).toBe(3);
    expect((await service("    scale: 2\n")).spec.replicas).toBe(2);
    expect((await caught(service("    scale: 2\n    deploy: {replicas: 3}\n"))).message).toContain(
      "conflicts with",
    );
  });
});
