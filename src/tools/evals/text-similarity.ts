/** Lower-case word tokens (letters and digits of any script), punctuation dropped. */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function fMeasure(overlap: number, candidate: number, reference: number): number {
  if (candidate === 0 && reference === 0) return 1;
  if (overlap === 0) return 0;
  const precision = overlap / candidate;
  const recall = overlap / reference;
  return (2 * precision * recall) / (precision + recall);
}

/** SQuAD's token F1: the multiset overlap of word tokens, as an F-measure of precision and recall. */
export function tokenF1(candidate: string, reference: string): number {
  const a = wordTokens(candidate);
  const b = wordTokens(reference);
  const counts = new Map<string, number>();
  for (const token of b) counts.set(token, (counts.get(token) ?? 0) + 1);
  let overlap = 0;
  for (const token of a) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      overlap++;
      counts.set(token, left - 1);
    }
  }
  return fMeasure(overlap, a.length, b.length);
}

/** ROUGE-L: the longest common subsequence of word tokens, as an F-measure (β = 1). */
export function rougeL(candidate: string, reference: string): number {
  const a = wordTokens(candidate);
  const b = wordTokens(reference);
  // One row of the LCS table at a time: memory linear in the reference's length.
  let previous = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) current[j] = a[i - 1] === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    previous = current;
  }
  return fMeasure(previous[b.length]!, a.length, b.length);
}
