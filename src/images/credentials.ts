// Registry credentials exactly where the docker CLI finds them: `$DOCKER_CONFIG/config.json` or
// `~/.docker/config.json`; a registry's `credHelpers` entry first, then `credsStore`, then the
// `auths` entry (base64 `auth` or username/password, or an `identitytoken`). Keys match by host
// (`https://ghcr.io/v1/` is `ghcr.io`), with Docker Hub's aliases. The answer is the value of
// the X-Registry-Auth header for the daemon; every secret read is remembered for redaction.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { helperCredentials, TOKEN_USERNAME } from "./credential-helper.js";
import { CredentialsError } from "./errors.js";
import { hostOfConfigKey, serverAddressOf } from "./reference.js";
import { rememberSecret } from "./secrets.js";

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfigFile {
  path: string;
  auths: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers: Record<string, string>;
}

/** What the daemon needs for one registry (the X-Registry-Auth header's JSON). */
export type RegistryAuth =
  | { username: string; password: string; serveraddress: string }
  | { identitytoken: string; serveraddress: string };

export interface CredentialOptions {
  /** Environment to read DOCKER_CONFIG and HOME from (default process.env). */
  env?: Record<string, string | undefined>;
}

export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.DOCKER_CONFIG?.trim() || join(env.HOME?.trim() || homedir(), ".docker");
  return join(dir, "config.json");
}

/** The config file, or undefined when there is none (anonymous pulls). */
export function readDockerConfig(path: string): DockerConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CredentialsError(`Cannot read the docker config ${path}: ${(error as Error).message}`, {
      resource: path,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CredentialsError(`The docker config ${path} is not valid JSON: ${(error as Error).message}`, {
      resource: path,
      hint: "Fix the file (docker login rewrites it), or point DOCKER_CONFIG at another directory.",
    });
  }
  const record = (raw ?? {}) as Record<string, unknown>;
  const field = <T>(name: string, check: (v: unknown) => v is T): T | undefined => {
    const value = record[name];
    if (value === undefined || value === null) return undefined;
    if (!check(value)) {
      throw new CredentialsError(`The docker config ${path}: field \`${name}\` has the wrong type`, {
        resource: `${path}: ${name}`,
      });
    }
    return value;
  };
  const isObject = (v: unknown): v is Record<string, never> => typeof v === "object" && !Array.isArray(v);
  const isString = (v: unknown): v is string => typeof v === "string";
  return {
    path,
    auths: (field("auths", isObject) ?? {}) as Record<string, AuthEntry>,
    ...(field("credsStore", isString) ? { credsStore: record.credsStore as string } : {}),
    credHelpers: (field("credHelpers", isObject) ?? {}) as Record<string, string>,
  };
}

/** The value of `map` whose key names `registry` (exact server address first, then by host). */
function byHost<T>(map: Record<string, T>, registry: string): [string, T] | undefined {
  const exact = serverAddressOf(registry);
  if (map[exact] !== undefined) return [exact, map[exact]];
  for (const [key, value] of Object.entries(map)) if (hostOfConfigKey(key) === registry) return [key, value];
  return undefined;
}

function fromEntry(entry: AuthEntry, serveraddress: string, where: string): RegistryAuth | undefined {
  if (entry.identitytoken) {
    rememberSecret(entry.identitytoken);
    return { identitytoken: entry.identitytoken, serveraddress };
  }
  let username = entry.username;
  let password = entry.password;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new CredentialsError(`The docker config ${where}: \`auth\` is not base64 of user:password`, {
        resource: where,
        hint: "Log in again with `docker login`, which writes it correctly.",
      });
    }
    rememberSecret(entry.auth);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (!username || !password) return undefined;
  rememberSecret(password);
  return { username, password, serveraddress };
}

/** Credentials for `registry` from the config file, or undefined for anonymous access. */
export async function credentialsFor(
  registry: string,
  config: DockerConfigFile | undefined,
): Promise<RegistryAuth | undefined> {
  if (!config) return undefined;
  const serveraddress = serverAddressOf(registry);
  const helper = byHost(config.credHelpers, registry);
  const store = helper
    ? { name: helper[1], source: `credHelpers["${helper[0]}"] in ${config.path}` }
    : config.credsStore
      ? { name: config.credsStore, source: `credsStore in ${config.path}` }
      : undefined;
  if (store) {
    const found = await helperCredentials(store.name, serveraddress, store.source);
    if (found) {
      return found.username === TOKEN_USERNAME
        ? { identitytoken: found.secret, serveraddress }
        : { username: found.username, password: found.secret, serveraddress };
    }
    // The docker CLI falls back to the file's own entry when the store has none.
  }
  const entry = byHost(config.auths, registry);
  return entry ? fromEntry(entry[1], serveraddress, `${config.path}: auths["${entry[0]}"]`) : undefined;
}

/**
 * The X-Registry-Auth header value: URL-safe base64 of the JSON, padded, as the docker CLI sends
 * it (the daemon decodes it strictly, and silently pulls anonymously when it cannot).
 */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  const value = Buffer.from(JSON.stringify(auth), "utf8")
    .toString("base64")
    .replaceAll("+", "-")
    .replaceAll("/", "_");
  rememberSecret(value);
  rememberSecret("password" in auth ? auth.password : auth.identitytoken);
  return value;
}
