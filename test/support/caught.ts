// The error a piece of code throws, for tests about errors: the test fails when nothing throws,
// so an assertion on the error can never pass by not running.

export type Caught = Error & Record<string, unknown>;

const nothingThrown = () => new Error("expected an error, but nothing was thrown");

/**
 * What `work` throws, or what the promise (or the promise `work` answers) rejects with; `E` only
 * names the type the test expects (check it with `toBeInstanceOf`).
 */
export function caught<E = Caught>(work: Promise<unknown> | (() => Promise<unknown>)): Promise<E>;
export function caught<E = Caught>(work: () => unknown): E;
export function caught(work: Promise<unknown> | (() => unknown)): Caught | Promise<Caught> {
  let result: unknown;
  if (typeof work === "function") {
    try {
      result = work();
    } catch (error) {
      return error as Caught;
    }
  } else result = work;
  if (result instanceof Promise) {
    return result.then(
      () => {
        throw nothingThrown();
      },
      (error: unknown) => error as Caught,
    );
  }
  throw nothingThrown();
}
