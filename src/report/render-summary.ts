import type { Evidence, GateRuleResult, TestCase } from '../evidence/schema.js';
import { formatNumber } from '../util/format-number.js';
import { checkoutNote } from './checkout-note.js';
import { renderEvals } from './render-evals.js';
import { outcomeLabel, outcomeMessage, testCountsLine } from './test-outcome.js';

export interface SummarySection {
  /** Lower comes first and is the last to be cut when a platform limit bites. */
  priority: number;
  markdown: string;
}

export interface RenderedSummary {
  title: string;
  sections: SummarySection[];
}

export interface ArtifactLink {
  name: string;
  id?: number;
  sha256?: string;
  url?: string;
}

const VERDICT_LINE: Record<Evidence['gate']['verdict'], string> = {
  pass: '✅ **Passed**',
  fail: '❌ **Failed**',
  needs_approval: '⏸️ **Waiting for approval**',
  blocked: '⛔ **Blocked**',
};

const MAX_FAILURES_LISTED = 50;

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function ruleRow(rule: GateRuleResult): string {
  const mark = rule.status === 'pass' ? '✅' : rule.status === 'fail' ? '❌' : '➖';
  return `| ${mark} | \`${rule.id}\` | \`${rule.metric} ${rule.op} ${formatNumber(rule.expected)}\` | ${rule.observed === null ? 'not measured' : formatNumber(rule.observed)} |`;
}

function failureLine(test: TestCase): string {
  const where = test.file ? `\`${test.file}${test.line ? `:${test.line}` : ''}\`` : '';
  const text = outcomeMessage(test);
  const message = text ? ` — ${escapeCell(text.split('\n')[0]!.slice(0, 240))}` : '';
  return `- **${outcomeLabel(test)}** \`${test.id}\` ${where}${message}`;
}

export function summaryTitle(evidence: Evidence): string {
  const { verdict } = evidence.gate;
  const pytest =
    evidence.metrics['pytest.total'] !== undefined
      ? ` — ${evidence.metrics['pytest.failed'] ?? 0} failed, ${evidence.metrics['pytest.errors'] ?? 0} errors of ${evidence.metrics['pytest.total']} tests`
      : '';
  const word = { pass: 'passed', fail: 'failed', needs_approval: 'waiting for approval', blocked: 'blocked' }[verdict];
  return `Quality gate ${word}${pytest}`;
}

/**
 * The summary a maintainer reads: the verdict first, then each failed rule with observed vs
 * expected, then failures with file:line, then the plan, notes and links. Sections carry a
 * priority so the publisher can cut from the end under GitHub's size limits.
 */
export function renderSummary(evidence: Evidence, options: { artifact?: ArtifactLink; notes?: string[]; dashboardUrl?: string } = {}): RenderedSummary {
  const sections: SummarySection[] = [];
  const { gate } = evidence;
  sections.push({
    priority: 0,
    markdown: [
      `## ${evidence.approval.status === 'held' ? '⏸️ **Held**' : VERDICT_LINE[gate.verdict]} — QualityFoundry`,
      '',
      ...gate.reasons.map((reason) => `- ${escapeCell(reason)}`),
      ...(testCountsLine(evidence.metrics) ? [`- Tests: ${testCountsLine(evidence.metrics)}`] : []),
      ...(checkoutNote(evidence.change) ? [`- ${checkoutNote(evidence.change)}`] : []),
    ].join('\n'),
  });

  if (gate.rules.length > 0) {
    sections.push({
      priority: 1,
      markdown: ['### Gate rules', '', '| | rule | expected | observed |', '|---|---|---|---|', ...gate.rules.map(ruleRow)].join('\n'),
    });
  }

  const failures = evidence.steps.flatMap((step) => step.tests?.notable ?? []);
  if (failures.length > 0) {
    const shown = failures.slice(0, MAX_FAILURES_LISTED);
    const more = failures.length - shown.length;
    sections.push({
      priority: 2,
      markdown: ['### Failures', '', ...shown.map(failureLine), ...(more > 0 ? [`- … and ${more} more in the evidence artifact`] : [])].join('\n'),
    });
  }

  const evals = renderEvals(evidence);
  if (evals) sections.push({ priority: 2, markdown: evals });

  const stepRows = evidence.steps.map((step) => {
    const sandbox = step.sandbox ? `${step.sandbox.mode}${step.sandbox.fallbackReason ? ' (fallback)' : ''}` : '—';
    return `| \`${step.id}\` | ${step.tool} | ${step.status} | ${(step.durationMs / 1000).toFixed(1)} s | ${sandbox} | ${escapeCell((step.reason ?? '').slice(0, 160))} |`;
  });
  sections.push({
    priority: 3,
    markdown: [
      '### Plan',
      '',
      `Plan \`${evidence.plan.planHash.slice(0, 12)}\` · policy \`${evidence.policy.path}\`${evidence.policy.sourceRef ? ` at \`${evidence.policy.sourceRef.slice(0, 12)}\`` : ''} · mode ${evidence.governance.mode}`,
      '',
      ...(stepRows.length > 0
        ? ['| step | tool | status | time | sandbox | note |', '|---|---|---|---|---|---|', ...stepRows]
        : ['No step matched the change.']),
    ].join('\n'),
  });

  const notes = [
    ...(options.notes ?? []),
    ...(evidence.approval.required
      ? [`Approval ${evidence.approval.status}: ${evidence.approval.approvals.length}/${evidence.approval.needed} (${evidence.approval.reason ?? ''})`]
      : []),
    ...evidence.steps
      .filter((step) => step.sandbox?.fallbackReason)
      .map((step) => `Step ${step.id} ran in the subprocess sandbox: ${step.sandbox!.fallbackReason}`),
    ...unisolatedNote(evidence),
    ...shardNotes(evidence),
    ...(evidence.complete ? [] : [`Evidence is incomplete: ${evidence.incompleteReason ?? 'unknown reason'}`]),
  ];
  const artifact = options.artifact;
  const links = artifact
    ? [
        `Evidence: ${artifact.url ? `[${artifact.name}](${artifact.url})` : `artifact \`${artifact.name}\``}${artifact.id !== undefined ? ` (id ${artifact.id})` : ''}${artifact.sha256 ? `, sha256 \`${artifact.sha256}\`` : ''}`,
      ]
    : [];
  if (options.dashboardUrl) links.push(`Dashboard: [this run on the bot's dashboard](${options.dashboardUrl})`);
  if (notes.length > 0 || links.length > 0) {
    sections.push({ priority: 4, markdown: ['### Notes', '', ...[...notes, ...links].map((line) => `- ${line}`)].join('\n') });
  }
  return { title: summaryTitle(evidence), sections };
}

/** A shard says it is only part of the run and what its split rests on; a merged run says what it was merged from. */
function shardNotes(evidence: Evidence): string[] {
  const notes: string[] = [];
  if (evidence.shard)
    notes.push(
      `This is shard ${evidence.shard.index} of ${evidence.shard.total}: the merge of the shards (\`mode: merge\`, \`qf merge\`) gives the verdict of the whole run.`,
    );
  for (const step of evidence.steps)
    if (step.selection)
      notes.push(`Step \`${step.id}\` ran ${step.selection.selected} of the ${step.selection.collected} collected tests. ${step.selection.note}`);
  if (evidence.merge) {
    const { shards, total } = evidence.merge;
    const found = shards.filter((shard) => shard.bundle !== null).length;
    const verdicts = shards.map((shard) => `${shard.index} ${shard.verdict ?? 'missing'}`).join(', ');
    notes.push(`Merged from ${found} of ${total} shards: ${verdicts}; ${evidence.governance.conflicts.length} conflict(s) between them.`);
  }
  return notes;
}

/** Said plainly when tested code could read qf's credentials through /proc or leave processes running. */
function unisolatedNote(evidence: Evidence): string[] {
  const steps = evidence.steps.filter((step) => step.sandbox?.isolation && !step.sandbox.isolation.hostProcessesProtected);
  if (steps.length === 0) return [];
  return [`⚠ ${steps.map((step) => `\`${step.id}\``).join(', ')} ran without process isolation. ${steps[0]!.sandbox!.isolation!.note}`];
}

export function summaryMarkdown(rendered: RenderedSummary): string {
  return `${rendered.sections.map((section) => section.markdown).join('\n\n')}\n`;
}
