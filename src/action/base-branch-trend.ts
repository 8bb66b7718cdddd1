import * as z from 'zod';
import { errorMessage } from '../errors.js';
import { byteLength, PlatformLimit } from '../github/limits.js';
import { type BotApi, getBotApi } from './bot-api.js';

/** Runs the trend shows: the base branch's newest, one page of the bot's runs list. */
export const TREND_RUNS = 20;

/** The fields of the bot's `Run` the trend reads (the answer comes from outside the job: checked). */
const TrendRuns = z.array(
  z.object({
    id: z.string(),
    startedAt: z.string(),
    verdict: z.string().nullable(),
    data: z.object({
      durationMs: z.number().optional(),
      metrics: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
);

export interface TrendPoint {
  /** `<workflow run>.<attempt>`: the tail of the bot's run id. */
  label: string;
  verdict: string | null;
  /** pytest.pass_rate in percent, one decimal; null when the run has none. */
  passRatePercent: number | null;
  durationSeconds: number | null;
}

/**
 * The job summary's trend of the base branch: its newest runs the bot recorded (pushes to that branch of
 * this repository), oldest first, as Mermaid charts GitHub renders. Never throws: when the bot cannot
 * give it, the section is one line saying why (a trend is worth nothing next to the gate's own result).
 */
export async function baseBranchTrend(api: BotApi, repo: { owner: string; repo: string }, branch: string | null): Promise<string> {
  if (!branch) return '**Trend** unavailable: this run has no base branch (not a pull request, nor a push to a branch).';
  const shown = codeText(branch);
  let points: TrendPoint[];
  try {
    const body = await getBotApi(api, `/projects/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/runs`, {
      branch,
      per_page: String(TREND_RUNS),
    });
    const parsed = TrendRuns.safeParse(body);
    if (!parsed.success) throw new Error(`the bot's runs list is not the expected shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    points = parsed.data.reverse().map(trendPoint);
  } catch (error) {
    return `**Trend of \`${shown}\`** unavailable: ${oneLine(errorMessage(error))}.`;
  }
  if (points.length === 0) return `**Trend of \`${shown}\`**: the bot has recorded no run pushed to \`${shown}\` yet.`;
  return renderTrend(branch, points);
}

function trendPoint(run: z.infer<typeof TrendRuns>[number]): TrendPoint {
  const rate = run.data.metrics?.['pytest.pass_rate'];
  return {
    label: run.id.slice(run.id.lastIndexOf(':') + 1),
    verdict: run.verdict,
    passRatePercent: typeof rate === 'number' && Number.isFinite(rate) ? Math.round(rate * 1000) / 10 : null,
    durationSeconds: typeof run.data.durationMs === 'number' ? Math.round(run.data.durationMs / 100) / 10 : null,
  };
}

const VERDICT_MARK: Record<string, string> = { pass: '✅', fail: '❌', needs_approval: '⏳', blocked: '⛔', rejected: '🚫' };

/** Two small `xychart-beta` charts (pass rate, duration) and the verdicts as one line, oldest → newest. */
export function renderTrend(branch: string, points: readonly TrendPoint[]): string {
  const labels = `[${points.map((p) => `"${mermaidText(p.label)}"`).join(', ')}]`;
  const title = `${mermaidText(branch)}: last ${points.length} run${points.length === 1 ? '' : 's'}`;
  const chart = (name: string, axis: string, range: string, kind: 'line' | 'bar', values: Array<number | null>): string[] => [
    '```mermaid',
    'xychart-beta',
    `  title "${title}, ${name}"`,
    `  x-axis ${labels}`,
    `  y-axis "${axis}" ${range}`,
    // A run without the figure is drawn at 0 (Mermaid has no gaps); the verdict line below names it.
    `  ${kind} [${values.map((v) => v ?? 0).join(', ')}]`,
    '```',
  ];
  const durations = points.map((p) => p.durationSeconds);
  const longest = Math.max(1, ...durations.map((d) => d ?? 0));
  return [
    `**Trend of \`${codeText(branch)}\`** (the bot's record, oldest → newest): ${points.map((p) => `${VERDICT_MARK[p.verdict ?? ''] ?? '❔'} ${p.label}`).join(' · ')}`,
    '',
    ...chart(
      'pass rate',
      'tests passed (%)',
      '0 --> 100',
      'line',
      points.map((p) => p.passRatePercent),
    ),
    '',
    ...chart('duration', 'duration (s)', `0 --> ${Math.ceil(longest)}`, 'bar', durations),
  ].join('\n');
}

/** The job summary with the trend at its end, when both fit GitHub's 1 MiB (the gate's own result first). */
export function withTrend(jobSummary: string, trend: string): string {
  const joined = `${jobSummary}\n\n${trend}`;
  return byteLength(joined) <= PlatformLimit.jobSummaryBytes ? joined : jobSummary;
}

/** Text inside a Mermaid string: no quotes, brackets or line breaks that would end it. */
const mermaidText = (text: string): string => text.replace(/["[\]\r\n`]/g, '').slice(0, 80);

/** Text inside a Markdown code span: a backtick would end it. */
const codeText = (text: string): string => text.replace(/`/g, '');

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').replace(/\.$/, '').slice(0, 400);
