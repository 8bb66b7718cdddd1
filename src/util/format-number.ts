/**
 * How every observed and expected value is shown to people (terminal, summaries, rule reasons):
 * integers as they are, fractions to at most 4 decimals. One formatter, so a rule never shows as
 * 0.3333 in one place and 0.3333333333333333 in another.
 */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 10_000) / 10_000);
}
