import type { Evidence } from '../evidence/schema.js';
import type { RenderedSummary } from '../report/render-summary.js';
import { fitSections, PlatformLimit, type Section, truncateChars } from './limits.js';

export interface GateOutput {
  title: string;
  /** Check run output.summary, ≤ 65535 bytes. */
  summary: string;
  /** Check run output.text (per-step details), ≤ 65535 bytes. */
  text: string;
  /** Job summary, ≤ 1 MiB. */
  jobSummary: string;
}

/**
 * Fits the rendered summary and this run's notices (policy changed in the PR, why approvals were not
 * taken, publishing degraded) into each destination's limit. Notices go right after the verdict: they
 * explain it. What does not fit is cut last-priority-first, with a pointer to the evidence artifact.
 */
export function gateOutput(rendered: RenderedSummary, notices: readonly string[], evidence: Evidence, pointer: string): GateOutput {
  const ordered = [...rendered.sections].sort((a, b) => a.priority - b.priority);
  const first = ordered[0]?.priority ?? 0;
  const second = ordered[1]?.priority ?? first + 1;
  const noticeSection: Section[] = notices.length
    ? [{ priority: (first + second) / 2, markdown: notices.map((notice) => `> [!NOTE]\n> ${notice.replace(/\n/g, '\n> ')}`).join('\n\n') }]
    : [];
  const sections = [...ordered, ...noticeSection];
  return {
    title: truncateChars(rendered.title, 255),
    summary: fitSections(sections, PlatformLimit.checkRunOutputBytes, pointer).text,
    text: fitSections(stepDetails(evidence), PlatformLimit.checkRunOutputBytes, pointer).text,
    jobSummary: fitSections(sections, PlatformLimit.jobSummaryBytes, pointer).text,
  };
}

/** One section per step: status, why, and the tail of its output (the raw reports are in the artifact). */
function stepDetails(evidence: Evidence): Section[] {
  if (evidence.steps.length === 0) return [{ priority: 0, markdown: 'No steps ran.' }];
  return evidence.steps.map((step, index) => {
    const lines = [
      `### \`${step.id}\` (${step.tool}): ${step.status}`,
      `${step.attempts} attempt${step.attempts === 1 ? '' : 's'}, ${(step.durationMs / 1000).toFixed(1)} s`,
    ];
    if (step.reason) lines.push('', step.reason);
    if (step.tests) {
      const c = step.tests.counts;
      lines.push('', `${c.total} tests: ${c.passed} passed, ${c.failed} failed, ${c.errors} errors, ${c.skipped} skipped`);
    }
    const tail = step.sandbox?.stdoutTail.trim();
    if (tail) lines.push('', '<details><summary>output (tail)</summary>', '', '```text', tail.slice(-8000), '```', '', '</details>');
    return { priority: index, markdown: lines.join('\n') };
  });
}
