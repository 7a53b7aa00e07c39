/**
 * "Did you mean": the known name closest to a mistyped one, for NotFound messages.
 */

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * ` Did you mean 'web'?` when one of `known` is within a third of `word`'s length (at
 * least one edit) of it, else ''. Ties go to the first in `known`.
 */
export function didYouMean(word: string, known: Iterable<string>): string {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: [string, number] | null = null;
  for (const candidate of known) {
    if (candidate === word) continue;
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d <= limit && (best === null || d < best[1])) best = [candidate, d];
  }
  return best === null ? '' : ` Did you mean '${best[0]}'?`;
}
