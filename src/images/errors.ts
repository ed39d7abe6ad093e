// The images layer's errors. Each names the registry and the image, and says what to check:
// the login for a refused pull, the name and tag for an unknown one, the helper for a credential
// store that cannot be asked. None of them ever carries a secret.
import { BerthError, type BerthErrorDetails, ConfigError } from "../engine/errors.js";

interface ImageErrorDetails extends BerthErrorDetails {
  registry?: string;
}

class RegistryError extends BerthError {
  readonly registry: string | undefined;
  constructor(message: string, details: ImageErrorDetails = {}) {
    super(message, details);
    this.registry = details.registry;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), registry: this.registry };
  }
}

/** Images that are not present locally while the pull policy (`never`) forbids pulling them. */
export class ImageMissingError extends BerthError {
  override readonly code = "BERTH_IMAGE_MISSING";
  readonly images: { service: string; image: string }[];
  constructor(images: { service: string; image: string }[]) {
    super(
      `Image${images.length > 1 ? "s" : ""} not found locally: ${images.map((i) => `${i.image} (service ${i.service})`).join(", ")}`,
      {
        resource: images.map((i) => i.image).join(", "),
        hint: "Their pull_policy is `never` (or `--pull never`): pull them first (`berth pull`), build them, or let berth pull with `--pull missing`.",
      },
    );
    this.images = images;
  }
}

/** A pull failed for a reason that is not the registry's answer about the request. */
export class ImagePullError extends RegistryError {
  override readonly code: string = "BERTH_IMAGE_PULL_FAILED";
}

/** The registry refused the credentials, or wants some (401, 403, "denied"). Not retried. */
export class RegistryAuthError extends ImagePullError {
  override readonly code = "BERTH_REGISTRY_AUTH";
}

/** The registry does not know the repository or the tag ("manifest unknown"). Not retried. */
export class ImageNotFoundError extends ImagePullError {
  override readonly code = "BERTH_IMAGE_NOT_FOUND";
}

/** The registry kept answering 429 (rate limit) past the retries, or asked to wait too long. */
export class RateLimitedError extends ImagePullError {
  override readonly code = "BERTH_REGISTRY_RATE_LIMITED";
  /** How long the registry asked to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs: number | undefined, details: ImageErrorDetails = {}) {
    super(message, details);
    this.retryAfterMs = retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/** A docker config file or credential helper that cannot give credentials. Exit 2. */
export class CredentialsError extends ConfigError {
  override readonly code = "BERTH_CREDENTIALS";
}
