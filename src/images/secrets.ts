// Registry secrets berth has read in this process (passwords, identity tokens, the encoded
// X-Registry-Auth headers made from them), so that any text about to be printed or logged can be
// cleaned of them. A secret is never put into a message on purpose; this is the second line.
const known = new Set<string>();

/** Secrets shorter than this are not redacted: replacing every "a" would garble text, not protect. */
const MIN_LENGTH = 4;

export function rememberSecret(secret: string | undefined): void {
  if (secret && secret.length >= MIN_LENGTH) known.add(secret);
}

/** `text` with every known secret replaced by `***`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.replaceAll(secret, "***");
  return out;
}

/** True when `text` holds a known secret (for tests and assertions). */
export function containsSecret(text: string): boolean {
  for (const secret of known) if (text.includes(secret)) return true;
  return false;
}
