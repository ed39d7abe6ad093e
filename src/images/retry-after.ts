// How long a rate-limiting registry asks to wait. The daemon passes on a 429's message but not
// its Retry-After header, so berth asks the registry itself, once per 429: a HEAD of the same
// manifest with the same credentials (HEAD requests do not count against Docker Hub's limit).
// Anything that goes wrong answers "unknown", and the guard's backoff applies.
import type { RegistryAuth } from "./credentials.js";
import { DOCKER_HUB, type ImageReference } from "./reference.js";

const PROBE_TIMEOUT_MS = 5_000;
const MANIFEST_TYPES = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** Retry-After in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Loopback registries speak plain HTTP (the daemon treats 127.0.0.0/8 as insecure); others HTTPS. */
export function registryBaseUrl(registry: string): string {
  if (registry === DOCKER_HUB) return "https://registry-1.docker.io";
  const host = registry.replace(/:\d+$/, "");
  const loopback = host === "localhost" || host.startsWith("127.") || host === "[::1]";
  return `${loopback ? "http" : "https"}://${registry}`;
}

function basic(auth: RegistryAuth | undefined): string | undefined {
  if (!auth || !("username" in auth)) return undefined;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
}

/** `Bearer realm="...",service="...",scope="..."` as a map. */
function challengeParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of header.matchAll(/(\w+)="([^"]*)"/g)) params[match[1]!] = match[2]!;
  return params;
}

async function bearerToken(challenge: string, auth: RegistryAuth | undefined, signal: AbortSignal) {
  const { realm, service, scope } = challengeParams(challenge);
  if (!realm) return undefined;
  const url = new URL(realm);
  if (service) url.searchParams.set("service", service);
  if (scope) url.searchParams.set("scope", scope);
  const authorization = basic(auth);
  const response = await fetch(url, { signal, headers: authorization ? { authorization } : {} });
  if (!response.ok) return undefined;
  const body = (await response.json()) as { token?: string; access_token?: string };
  return body.token ?? body.access_token;
}

/** The registry's Retry-After for this image's manifest right now, if it is rate-limiting. */
export async function probeRetryAfter(
  ref: ImageReference,
  auth: RegistryAuth | undefined,
): Promise<number | undefined> {
  const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const url = `${registryBaseUrl(ref.registry)}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? "latest"}`;
  try {
    const head = (authorization?: string) =>
      fetch(url, {
        method: "HEAD",
        signal,
        headers: { accept: MANIFEST_TYPES, ...(authorization ? { authorization } : {}) },
      });
    let response = await head();
    const challenge = response.headers.get("www-authenticate") ?? "";
    if (response.status === 401 && /^basic/i.test(challenge) && basic(auth)) {
      response = await head(basic(auth));
    } else if (response.status === 401 && /^bearer/i.test(challenge)) {
      const token = await bearerToken(challenge, auth, signal);
      if (token) response = await head(`Bearer ${token}`);
    }
    if (response.status !== 429) return undefined;
    return parseRetryAfter(response.headers.get("retry-after"));
  } catch {
    return undefined;
  }
}
