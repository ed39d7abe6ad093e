// Compose's two spellings of a mapping: `{A: 1}` or `["A=1", "B"]` (environment, labels, args).
import { type FileContext, failAt } from "./file-context.js";
import type { PathSegment } from "./path.js";

export type Scalar = string | number | boolean | null;

/** `{A: 1}` or `["A=1", "B"]` into a map; `null` marks a name without a value. */
export function parseMapOrList(
  context: FileContext,
  path: PathSegment[],
  raw: Record<string, Scalar> | string[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(raw)) {
    raw.forEach((entry, index) => {
      const equals = entry.indexOf("=");
      const key = equals < 0 ? entry : entry.slice(0, equals);
      if (key.trim() === "")
        failAt(context, [...path, index], "an entry needs a name before `=`", { value: entry });
      out[key] = equals < 0 ? null : entry.slice(equals + 1);
    });
    return out;
  }
  for (const [key, value] of Object.entries(raw)) out[key] = value === null ? null : String(value);
  return out;
}

/** Labels: the mapping with `null` as "", refusing berth's own `berth.` prefix. */
export function parseLabels(
  context: FileContext,
  path: PathSegment[],
  raw: Record<string, Scalar> | string[],
) {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseMapOrList(context, path, raw))) {
    if (key.startsWith("berth.")) {
      failAt(
        context,
        [...path, key],
        "labels starting with `berth.` are reserved for berth's ownership labels",
        {
          value: key,
        },
      );
    }
    labels[key] = value ?? "";
  }
  return labels;
}
