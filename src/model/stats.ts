// Percentiles of latency samples, interpolating between ranks: the guard's metrics, validation
// reports and the benchmarks mean the same thing by p95.

/** The `p`th percentile (0-100) of `values`; 0 when there are none, as every report shows it. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
