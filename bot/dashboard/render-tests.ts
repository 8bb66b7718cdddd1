import type { TestResultRow } from '../../src/store/index.js';
import { runPath, testPath } from './dashboard-links.js';
import { html, type SafeHtml } from './html.js';
import type { TestStat, TestStats } from './load-test-stats.js';
import { formatMs, renderChart, shortSha } from './render-layout.js';

const MARK: Record<string, string> = { passed: '✓', failed: '✗', error: '!', skipped: 's', xfailed: 'x', xpassed: 'X' };

function historyStrip(projectId: string, stat: TestStat): SafeHtml {
  return html`<span class="history">${stat.history.map(
    (h) =>
      html`<a class="h h-${h.outcome}" href="${runPath(projectId, h.runId)}" title="${h.runId}: ${h.outcome}, ${formatMs(h.durationMs)}">${MARK[h.outcome] ?? '?'}</a>`,
  )}</span>`;
}

function testCell(projectId: string, stat: { testId: string; file: string | null; line: number | null }): SafeHtml {
  return html`<a class="test-id" href="${testPath(projectId, stat.testId)}">${stat.testId}</a>${stat.file ? html` <small>${stat.file}${stat.line !== null ? `:${stat.line}` : ''}</small>` : ''}`;
}

export function renderTests(projectId: string, stats: TestStats): SafeHtml {
  const row = (stat: TestStat, cells: SafeHtml): SafeHtml =>
    html`<tr><td>${testCell(projectId, stat)}</td>${cells}<td>${historyStrip(projectId, stat)}</td></tr>`;
  return html`
<p>Over the last ${stats.windowRuns} runs.</p>
<section>
<h2>Flakiest</h2>
<p>A test is flaky here when its outcome differs on the same head SHA, or flips between consecutive runs.</p>
<table id="flaky-table"><thead><tr><th>Test</th><th>Head SHAs that disagree</th><th>Flips</th><th>Runs</th><th>History</th></tr></thead>
<tbody>${stats.flakiest.map((s) => row(s, html`<td>${s.disagreeingShas}</td><td>${s.flips}</td><td>${s.runs}</td>`))}</tbody></table>
</section>
<section>
<h2>Slowest</h2>
${renderChart('slowest-chart', 'Mean duration of the slowest tests', {
  type: 'bar',
  unit: 'ms',
  labels: stats.slowest.slice(0, 10).map((s) => s.testId),
  datasets: [{ label: 'mean (ms)', data: stats.slowest.slice(0, 10).map((s) => Math.round(s.meanMs * 10) / 10), color: '#0969da' }],
})}
<table id="slowest-table"><thead><tr><th>Test</th><th>Mean</th><th>Max</th><th>Runs</th><th>History</th></tr></thead>
<tbody>${stats.slowest.map((s) => row(s, html`<td>${formatMs(s.meanMs)}</td><td>${formatMs(s.maxMs)}</td><td>${s.runs}</td>`))}</tbody></table>
</section>
<section>
<h2>Most often failing</h2>
<table id="failing-table"><thead><tr><th>Test</th><th>Failures</th><th>Runs</th><th>History</th></tr></thead>
<tbody>${stats.failing.map((s) => row(s, html`<td>${s.failures}</td><td>${s.runs}</td>`))}</tbody></table>
</section>`;
}

/** One test's history, newest first. */
export function renderTestHistory(projectId: string, rows: readonly TestResultRow[]): SafeHtml {
  const chronological = [...rows].reverse();
  return html`
${renderChart('history-chart', 'Duration per run', {
  type: 'line',
  unit: 'ms',
  labels: chronological.map((r) => r.runStartedAt.slice(0, 16).replace('T', ' ')),
  datasets: [{ label: 'duration (ms)', data: chronological.map((r) => r.durationMs), color: '#0969da' }],
})}
<table id="history-table"><thead><tr><th>Run</th><th>Started</th><th>Head</th><th>Outcome</th><th>Duration</th><th>Message</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><td><a href="${runPath(projectId, r.runId)}">${r.runId}</a></td><td>${r.runStartedAt}</td><td>${shortSha(r.headSha)}</td><td class="outcome-${r.outcome}">${r.outcome}</td><td>${formatMs(r.durationMs)}</td><td><pre>${r.message ?? ''}</pre></td></tr>`,
  )}</tbody></table>`;
}
