// Where the daemon is, decided as the docker CLI decides it: DOCKER_HOST (with DOCKER_TLS,
// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH); else the context named by DOCKER_CONTEXT; else the
// `currentContext` of DOCKER_CONFIG/config.json (default ~/.docker); else the default socket.
// Contexts are read from the CLI's store: contexts/meta/<sha256 of the name>/meta.json and
// contexts/tls/<sha256>/docker/{ca,cert,key}.pem. Pure except for reading those files.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "./errors.js";

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Verify the daemon's certificate (DOCKER_TLS_VERIFY, or a context without SkipTLSVerify). */
  verify: boolean;
  /** Where the files were read from, for error messages. */
  dir: string;
}

interface EndpointBase {
  /** The address as given: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`, `ssh://ci@host`. */
  url: string;
  /** Why this endpoint: `DOCKER_HOST`, `context ci via DOCKER_CONTEXT`, `the default socket`... */
  source: string;
  /** The docker context it came from, when it did. */
  context?: string;
}

export type DockerEndpoint =
  | (EndpointBase & { kind: "unix"; socketPath: string })
  | (EndpointBase & {
      kind: "tcp";
      host: string;
      port: number;
      protocol: "http" | "https";
      tls?: TlsMaterial;
    })
  | SshEndpoint;

/** `ssh://[user@]host[:port]`: reached through `ssh … docker system dial-stdio`. */
export type SshEndpoint = EndpointBase & {
  kind: "ssh";
  host: string;
  user?: string;
  port?: number;
  /** An ssh configuration file for `ssh -F` (BERTH_SSH_CONFIG): keys, known hosts, options. */
  configFile?: string;
};

export type DockerEnv = Record<string, string | undefined>;

/** Reads a file; throws (like readFileSync) when it is missing. */
export type ReadFile = (path: string) => Buffer;

const set = (value: string | undefined): value is string => value !== undefined && value !== "";

/** The docker CLI's configuration directory: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: DockerEnv): string {
  return set(env.DOCKER_CONFIG) ? env.DOCKER_CONFIG : join(env.HOME || homedir(), ".docker");
}

/** The directory name the CLI's context store gives a context: the sha256 of its name. */
export function contextDirName(name: string): string {
  return createHash("sha256").update(name).digest("hex");
}

function readOptional(readFile: ReadFile, path: string): Buffer | undefined {
  try {
    return readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConfigError(`Cannot read ${path}: ${(error as Error).message}`, { resource: path });
  }
}

/**
 * TLS from the environment, as the CLI reads it: DOCKER_TLS_VERIFY set to anything (even `0`)
 * means TLS with verification; DOCKER_TLS alone means TLS without. Files come from
 * DOCKER_CERT_PATH, else the configuration directory; ca.pem is needed only to verify.
 */
function tlsFromEnv(env: DockerEnv, readFile: ReadFile): TlsMaterial | undefined {
  const verify = set(env.DOCKER_TLS_VERIFY);
  if (!verify && !set(env.DOCKER_TLS)) return undefined;
  const dir = set(env.DOCKER_CERT_PATH) ? env.DOCKER_CERT_PATH : dockerConfigDir(env);
  const variable = verify ? "DOCKER_TLS_VERIFY" : "DOCKER_TLS";
  const ca = verify ? readOptional(readFile, join(dir, "ca.pem")) : undefined;
  if (verify && !ca) {
    throw new ConfigError(
      `DOCKER_TLS_VERIFY is set, but there is no CA certificate at ${join(dir, "ca.pem")}`,
      {
        resource: join(dir, "ca.pem"),
        hint: "Point DOCKER_CERT_PATH at the directory holding ca.pem, cert.pem and key.pem.",
      },
    );
  }
  return { ...clientPair(readFile, dir, variable), ...(ca ? { ca } : {}), verify, dir };
}

/** cert.pem and key.pem: both or neither. */
function clientPair(readFile: ReadFile, dir: string, what: string): { cert?: Buffer; key?: Buffer } {
  const cert = readOptional(readFile, join(dir, "cert.pem"));
  const key = readOptional(readFile, join(dir, "key.pem"));
  if (Boolean(cert) !== Boolean(key)) {
    const [has, lacks] = cert ? ["cert.pem", "key.pem"] : ["key.pem", "cert.pem"];
    throw new ConfigError(`${what}: ${dir} holds ${has} but no ${lacks}; a client certificate needs both`, {
      resource: join(dir, lacks),
    });
  }
  return cert && key ? { cert, key } : {};
}

/** Parses one daemon address (DOCKER_HOST or a context's Host) into an endpoint. */
export function parseDockerHost(
  raw: string,
  origin: { source: string; context?: string; tls?: TlsMaterial; variable?: string },
): DockerEndpoint {
  const { source, context } = origin;
  const base = { source, ...(context ? { context } : {}) };
  const what = origin.variable ? `${origin.variable}=${raw}` : `${raw} (${source})`;
  const bad = (why: string) =>
    new ConfigError(`${what} ${why}`, {
      resource: origin.variable ?? source,
      hint: "Examples: unix:///var/run/docker.sock, tcp://127.0.0.1:2376, ssh://user@host",
    });
  const value = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // Like the CLI: a path is a socket, anything else a TCP address.
    if (value.startsWith("/") || value.startsWith("./"))
      return { kind: "unix", url: `unix://${value}`, socketPath: value, ...base };
    return parseDockerHost(`tcp://${value}`, origin);
  }
  const rest = value.slice(scheme.length + 3);
  if (scheme === "unix") {
    const socketPath = rest === "" ? DEFAULT_DOCKER_HOST.slice("unix://".length) : rest;
    if (!socketPath.startsWith("/")) throw bad("must name an absolute socket path (unix:///path)");
    return { kind: "unix", url: `unix://${socketPath}`, socketPath, ...base };
  }
  if (scheme === "ssh") {
    // Like the CLI: no path, no password (an ssh key or agent authenticates).
    const match = /^(?:([^@:/\s]+)@)?(\[[^\]]+\]|[^:/@\s]+)(?::(\d{1,5}))?\/?$/.exec(rest);
    const port = match?.[3] === undefined ? undefined : Number(match[3]);
    if (!match || (port !== undefined && (port < 1 || port > 65535)))
      throw bad("is not an ssh://[USER@]HOST[:PORT] address (no path, no password: use an ssh key or agent)");
    return {
      kind: "ssh",
      url: value,
      host: match[2]!.replace(/^\[|\]$/g, ""),
      ...(match[1] ? { user: match[1] } : {}),
      ...(port !== undefined ? { port } : {}),
      ...base,
    };
  }
  if (scheme === "tcp" || scheme === "http" || scheme === "https") {
    const match = /^(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(rest);
    if (!match) throw bad("is not a tcp://HOST:PORT address");
    const tls = origin.tls ?? (scheme === "https" ? { verify: true, dir: "" } : undefined);
    // The CLI's default port is 2375 whether or not TLS is on.
    const port = match[2] ? Number(match[2]) : 2375;
    const host = match[1]!.replace(/^\[|\]$/g, "");
    if (port < 1 || port > 65535) throw bad(`has port ${port}, outside 1-65535`);
    return {
      kind: "tcp",
      url: value,
      host,
      port,
      protocol: tls ? "https" : "http",
      ...(tls ? { tls } : {}),
      ...base,
    };
  }
  if (scheme === "npipe" || scheme === "fd")
    throw bad(`uses ${scheme}://, which berth does not support on Linux`);
  throw bad("is not a unix://, tcp:// or ssh:// address");
}

interface ContextMeta {
  Name?: string;
  Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
}

function readJson<T>(readFile: ReadFile, path: string, what: string): T | undefined {
  const bytes = readOptional(readFile, path);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8")) as T;
  } catch (error) {
    throw new ConfigError(`${what} ${path} is not valid JSON: ${(error as Error).message}`, {
      resource: path,
    });
  }
}

/** The endpoint of the context `name`, read from the CLI's context store. */
function contextEndpoint(name: string, via: string, env: DockerEnv, readFile: ReadFile): DockerEndpoint {
  const source = `context ${name} via ${via}`;
  // The CLI's built-in context: DOCKER_HOST's rules with DOCKER_HOST unset.
  if (name === "default") return defaultEndpoint(source, name);
  const store = join(dockerConfigDir(env), "contexts");
  const id = contextDirName(name);
  const metaPath = join(store, "meta", id, "meta.json");
  const meta = readJson<ContextMeta>(readFile, metaPath, `Docker context ${name}:`);
  if (!meta) {
    throw new ConfigError(
      `Docker context "${name}" (named by ${via}) does not exist: there is no ${metaPath}`,
      {
        resource: metaPath,
        hint: "List the contexts with `docker context ls`; set DOCKER_CONFIG if they live in another directory.",
      },
    );
  }
  const docker = meta.Endpoints?.docker;
  if (!docker) {
    throw new ConfigError(`Docker context "${name}" (${metaPath}) has no docker endpoint`, {
      resource: metaPath,
    });
  }
  if (!set(docker.Host)) return defaultEndpoint(source, name);
  const tlsDir = join(store, "tls", id, "docker");
  const ca = readOptional(readFile, join(tlsDir, "ca.pem"));
  const pair = clientPair(readFile, tlsDir, `Docker context ${name}`);
  const skipVerify = docker.SkipTLSVerify === true;
  const tls: TlsMaterial | undefined =
    ca || pair.cert || skipVerify
      ? { ...pair, ...(ca ? { ca } : {}), verify: !skipVerify, dir: tlsDir }
      : undefined;
  return parseDockerHost(docker.Host, { source, context: name, tls });
}

/** The CLI's default context: DOCKER_HOST unset, so the default socket (TLS does not apply). */
function defaultEndpoint(source: string, context?: string): DockerEndpoint {
  return parseDockerHost(DEFAULT_DOCKER_HOST, { source, context });
}

/** Resolves the endpoint from the environment and the docker CLI's configuration. */
export function resolveDockerEndpoint(
  env: DockerEnv = process.env,
  readFile: ReadFile = readFileSync,
): DockerEndpoint {
  const endpoint = resolveFromEnvironment(env, readFile);
  // A test (or a user) can point ssh at its own configuration file: keys, known hosts, ports.
  if (endpoint.kind === "ssh" && set(env.BERTH_SSH_CONFIG))
    return { ...endpoint, configFile: env.BERTH_SSH_CONFIG };
  return endpoint;
}

function resolveFromEnvironment(env: DockerEnv, readFile: ReadFile): DockerEndpoint {
  if (set(env.DOCKER_HOST)) {
    return parseDockerHost(env.DOCKER_HOST, {
      source: "DOCKER_HOST",
      variable: "DOCKER_HOST",
      tls: /^\s*(unix|ssh):\/\//i.test(env.DOCKER_HOST) ? undefined : tlsFromEnv(env, readFile),
    });
  }
  if (set(env.DOCKER_CONTEXT)) return contextEndpoint(env.DOCKER_CONTEXT, "DOCKER_CONTEXT", env, readFile);
  const configPath = join(dockerConfigDir(env), "config.json");
  const config = readJson<{ currentContext?: unknown }>(readFile, configPath, "The docker CLI configuration");
  if (typeof config?.currentContext === "string" && config.currentContext !== "") {
    return contextEndpoint(config.currentContext, `currentContext in ${configPath}`, env, readFile);
  }
  return defaultEndpoint("the default socket");
}

/** `tcp://127.0.0.1:2376 (context ci via DOCKER_CONTEXT)`: the endpoint as errors name it. */
export function describeEndpoint(endpoint: DockerEndpoint): string {
  return `${endpoint.url} (${endpoint.source})`;
}

/** Parses an `ssh://[user@]host[:port]` address as DOCKER_HOST would give it. */
export function parseSshHost(raw: string): SshEndpoint {
  const endpoint = parseDockerHost(raw, { source: "DOCKER_HOST", variable: "DOCKER_HOST" });
  if (endpoint.kind !== "ssh") {
    throw new ConfigError(`DOCKER_HOST=${raw} is not an ssh://[USER@]HOST[:PORT] address`, {
      resource: "DOCKER_HOST",
    });
  }
  return endpoint;
}
