import { runPath } from './dashboard-links.js';
import { html, type SafeHtml } from './html.js';
import type { Overview } from './load-overview.js';
import type { ChainStatus } from './start-chain-verifier.js';
import { formatMs, formatPercent, formatSeconds, renderChart, shortSha } from './render-layout.js';

const VERDICT_COLORS: Record<string, string> = { pass: '#2da44e', fail: '#cf222e', needs_approval: '#bf8700', blocked: '#8250df', rejected: '#57606a' };

/** The repository overview: trends first (charts with their tables), then what needs a human. */
export function renderOverview(o: Overview): SafeHtml {
  const days = [...new Set(o.verdictsByDay.map((v) => v.day))];
  const verdicts = [...new Set(o.verdictsByDay.map((v) => v.verdict))];
  const count = (day: string, verdict: string): number => o.verdictsByDay.find((v) => v.day === day && v.verdict === verdict)?.count ?? 0;
  const chronological = [...o.recent].reverse();
  return html`${
    o.audit && !o.audit.ok
      ? html`<p id="audit-alert" class="alert" role="alert">The audit chain is BROKEN at #${o.audit.brokenSeq ?? '?'}: ${o.audit.reason ?? ''}. Events at and after it cannot be trusted.</p>`
      : ''
  }
<section class="figures">
<dl>
<div><dt>Runs</dt><dd id="total-runs">${o.totalRuns}</dd></div>
<div><dt>Pass rate (last ${o.recent.length})</dt><dd id="pass-rate">${formatPercent(o.passRate)}</dd></div>
<div><dt>Suite duration p50</dt><dd id="duration-p50">${formatMs(o.durationP50Ms)}</dd></div>
<div><dt>Suite duration p95</dt><dd id="duration-p95">${formatMs(o.durationP95Ms)}</dd></div>
<div><dt>Open escalations</dt><dd id="open-escalations">${o.openEscalations.length}</dd></div>
<div><dt>Approval latency p50 / p95</dt><dd id="approval-latency">${formatSeconds(o.approvalP50Seconds)} / ${formatSeconds(o.approvalP95Seconds)}</dd></div>
<div><dt>Audit chain</dt><dd id="audit-status" class="${o.audit === undefined ? 'pending' : o.audit.ok ? 'ok' : 'bad'}">${auditStatus(o.audit)}</dd></div>
</dl>
</section>

<section>
<h2>Verdicts over time</h2>
${renderChart('verdicts-chart', 'Runs per day by verdict', {
  type: 'bar',
  stacked: true,
  labels: days,
  datasets: verdicts.map((verdict) => ({ label: verdict, data: days.map((day) => count(day, verdict)), color: VERDICT_COLORS[verdict] ?? '#6e7781' })),
})}
<table id="verdicts-table"><thead><tr><th>Day</th>${verdicts.map((v) => html`<th>${v}</th>`)}</tr></thead>
<tbody>${days.map((day) => html`<tr><td>${day}</td>${verdicts.map((v) => html`<td>${count(day, v)}</td>`)}</tr>`)}</tbody></table>
</section>

<section>
<h2>Suite duration</h2>
${renderChart('duration-chart', `Duration of the last ${chronological.length} runs`, {
  type: 'line',
  unit: 's',
  labels: chronological.map((run) => run.startedAt.slice(0, 16).replace('T', ' ')),
  datasets: [
    {
      label: 'duration (s)',
      data: chronological.map((run) => (typeof run.data.durationMs === 'number' ? run.data.durationMs / 1000 : null)),
      color: '#0969da',
    },
  ],
})}
</section>

${
  o.evals.length > 0
    ? html`<section>
<h2>Evals</h2>
${renderChart('evals-chart', 'Eval pass rate per run', {
  type: 'line',
  labels: o.evals.map((e) => e.startedAt.slice(0, 16).replace('T', ' ')),
  datasets: [{ label: 'evals.pass_rate', data: o.evals.map((e) => e.passRate), color: '#8250df' }],
})}
<table id="eval-regressions"><thead><tr><th>Run</th><th>Pass rate</th><th>Previous</th></tr></thead>
<tbody>${o.evals
        .filter((e) => e.regressedFrom !== undefined)
        .map(
          (e) =>
            html`<tr><td><a href="${runPath(o.projectId, e.runId)}">${e.runId}</a></td><td>${formatPercent(e.passRate)}</td><td>${formatPercent(e.regressedFrom)}</td></tr>`,
        )}</tbody></table>
</section>`
    : ''
}

<section>
<h2>Open escalations</h2>
${
  o.openEscalations.length === 0
    ? html`<p>None.</p>`
    : html`<table id="escalations-table"><thead><tr><th>Conflict</th><th>Status</th><th>Since</th><th>What disagrees</th></tr></thead><tbody>${o.openEscalations.map(
        (c) =>
          html`<tr><td>${c.runId ? html`<a href="${runPath(o.projectId, c.runId)}">${c.id}</a>` : c.id}</td><td>${c.status}</td><td>${c.escalatedAt ?? c.createdAt}</td><td>${c.message}</td></tr>`,
      )}</tbody></table>`
}
</section>

<section>
<h2>Approval latency (plan published → approved)</h2>
${
  o.approvals.length === 0
    ? html`<p>No approved plans among the last ${o.recent.length} runs.</p>`
    : html`<table id="approvals-table"><thead><tr><th>Run</th><th>Head</th><th>Published</th><th>Approved</th><th>Waited</th></tr></thead><tbody>${o.approvals.map(
        (a) =>
          html`<tr><td><a href="${runPath(o.projectId, a.runId)}">${a.runId}</a></td><td>${shortSha(a.headSha)}</td><td>${a.publishedAt}</td><td>${a.approvedAt}</td><td>${formatSeconds(a.seconds)}</td></tr>`,
      )}</tbody></table>`
}
</section>

<section>
<h2>Recent runs</h2>
<table id="runs-table"><thead><tr><th>Run</th><th>Started</th><th>Head</th><th>Verdict</th><th>Duration</th></tr></thead>
<tbody>${o.recent
    .slice(0, 50)
    .map(
      (run) =>
        html`<tr><td><a href="${runPath(o.projectId, run.id)}">${run.id}</a></td><td>${run.startedAt}</td><td>${shortSha(run.headSha)}</td><td class="verdict-${run.verdict ?? 'none'}">${run.verdict ?? '–'}</td><td>${formatMs(run.data.durationMs as number | undefined)}</td></tr>`,
    )}</tbody></table>
</section>`;
}

/** "verified N events through #seq at <time> (took x ms): intact", or the break first, in capitals. */
export function auditStatus(status: ChainStatus | undefined): string {
  if (!status) return 'verification pending';
  const verified = `verified ${status.count} events through #${status.throughSeq} at ${status.verifiedAt} (took ${formatMs(status.durationMs)})`;
  return status.ok ? `${verified}: intact` : `BROKEN at #${status.brokenSeq ?? '?'}: ${status.reason ?? ''}; ${verified}`;
}
