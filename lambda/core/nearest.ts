/**
 * "Did you mean": the known name nearest to a typed one, by edit distance, when it is close
 * enough to be a typo. Shared by the CLI (commands, flags) and the CDK app (context keys).
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The name in `names` nearest to `typed` (ignoring case), if within `maxDistance` edits. */
export function nearest(typed: string, names: readonly string[], maxDistance = Math.max(2, Math.floor(typed.length / 3))): string | undefined {
  const scored = names.map((name) => ({ name, d: editDistance(name.toLowerCase(), typed.toLowerCase()) })).sort((a, b) => a.d - b.d);
  const best = scored[0];
  return best && best.d <= maxDistance ? best.name : undefined;
}
