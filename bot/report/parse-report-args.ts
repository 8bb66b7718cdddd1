import type { ReportFormat } from '../../src/governance/index.js';

export interface ReportArgs {
  format: ReportFormat;
  /** Inclusive, ISO time at 00:00 UTC. */
  since: string;
  /** Exclusive: the day after the `until:` date, 00:00 UTC, so `until:` includes its whole day. */
  until: string;
  /** The dates as written, for the reply. */
  sinceDay: string | null;
  untilDay: string | null;
}

const EPOCH = '1970-01-01T00:00:00.000Z';

/** `[md|json|csv] [since:YYYY-MM-DD] [until:YYYY-MM-DD]`, any order; a bad word or date is named. */
export function parseReportArgs(text: string, now: Date): { ok: true; args: ReportArgs } | { ok: false; problem: string } {
  let format: ReportFormat = 'md';
  let since: string | null = null;
  let until: string | null = null;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const lower = word.toLowerCase();
    if (lower === 'md' || lower === 'json' || lower === 'csv') format = lower;
    else if (lower.startsWith('since:')) since = word.slice(6);
    else if (lower.startsWith('until:')) until = word.slice(6);
    else return { ok: false, problem: `\`${word.slice(0, 40)}\` is not a report option; expected md, json, csv, since:YYYY-MM-DD or until:YYYY-MM-DD` };
  }
  for (const [name, day] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (day !== null && !isDay(day))
      return { ok: false, problem: `${name}:${day.slice(0, 40)} is not a date; expected ${name}:YYYY-MM-DD (a real calendar day)` };
  }
  const sinceAt = since ? `${since}T00:00:00.000Z` : EPOCH;
  const untilAt = until ? new Date(Date.parse(`${until}T00:00:00.000Z`) + 86_400_000).toISOString() : new Date(now.getTime() + 1).toISOString();
  if (sinceAt >= untilAt) return { ok: false, problem: `since:${since} is after until:${until}` };
  return { ok: true, args: { format, since: sinceAt, until: untilAt, sinceDay: since, untilDay: until } };
}

function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const time = Date.parse(`${text}T00:00:00.000Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === text;
}
