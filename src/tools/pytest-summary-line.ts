/**
 * Reads pytest's closing line ("2 failed, 5 passed, 1 xpassed in 0.12s"). JUnit XML reports a
 * non-strict XPASS as a plain pass, so this is the only place xpassed can be counted from.
 */
export function parsePytestSummaryLine(stdout: string): Partial<Record<string, number>> | undefined {
  const lines = stdout.trimEnd().split('\n').reverse();
  const closing = lines.find((line) => / in [\d.]+s/.test(line) && /\d+ (passed|failed|error|errors|skipped|xfailed|xpassed|deselected)/.test(line));
  if (!closing) return undefined;
  const counts: Record<string, number> = {};
  for (const match of closing.matchAll(/(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)/g)) {
    counts[match[2]!.replace(/s$/, '').replace(/^error$/, 'errors')] = Number(match[1]);
  }
  return counts;
}
