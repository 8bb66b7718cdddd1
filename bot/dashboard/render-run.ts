import { html, type SafeHtml } from './html.js';
import type { RunView } from './load-run.js';
import { formatMs, renderChart } from './render-layout.js';
import type { StoredAuditEvent } from '../../src/store/index.js';

interface Rule {
  id: string;
  metric: string;
  op: string;
  expected: number;
  observed: number | null;
  status: string;
  reason: string;
}
interface Step {
  id: string;
  tool: string;
  status: string;
  durationMs: number;
  attempts: number;
}
interface Approval {
  status?: string;
  needed?: number;
  approvals?: Array<{ by: string; at: string; source: string }>;
  rejected?: Array<{ by: string; reason: string }>;
}

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/**
 * A link to `file` at `line` in the repository at the head SHA, on the host the workflow run lives on
 * (github.com or an Enterprise Server). Paths come from the tested code's report: only plain relative
 * paths get a link.
 */
export function codeLink(runUrl: unknown, projectId: string, headSha: string | null, file: string | null, line: number | null): string | null {
  if (typeof runUrl !== 'string' || !headSha || !/^[0-9a-f]{7,64}$/i.test(headSha) || !file) return null;
  if (file.startsWith('/') || file.includes('\\') || file.split('/').some((part) => part === '..' || part === '.' || part === '')) return null;
  let origin: string;
  try {
    const url = new URL(runUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    origin = url.origin;
  } catch {
    return null;
  }
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${origin}/${projectId.split('/').map(encodeURIComponent).join('/')}/blob/${headSha}/${path}${line !== null ? `#L${line}` : ''}`;
}

function trail(id: string, events: StoredAuditEvent[]): SafeHtml {
  return html`<table id="${id}"><thead><tr><th>Seq</th><th>At</th><th>Actor</th><th>Action</th><th>Subject</th></tr></thead><tbody>${events.map(
    (e) => html`<tr><td>${e.seq}</td><td>${e.at}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.subject}</td></tr>`,
  )}</tbody></table>`;
}

export function renderRun(view: RunView): SafeHtml {
  const { run } = view;
  const source = (run.data.source ?? {}) as Record<string, unknown>;
  const rules = list<Rule>(run.data.rules);
  const steps = list<Step>(run.data.steps);
  const reasons = list<string>(run.data.reasons);
  const rejected = list<string>(run.data.rejected);
  const approval = (run.data.approval ?? {}) as Approval;
  const evidenceConflicts = list<Record<string, unknown>>(run.data.evidenceConflicts);
  return html`
<section class="figures">
<dl>
<div><dt>Verdict</dt><dd id="verdict" class="verdict-${run.verdict ?? 'none'}">${run.verdict ?? '–'}</dd></div>
<div><dt>Head</dt><dd id="head-sha">${run.headSha ?? '–'}</dd></div>
<div><dt>Started</dt><dd>${run.startedAt}</dd></div>
<div><dt>Duration</dt><dd>${formatMs(run.data.durationMs as number | undefined)}</dd></div>
<div><dt>Mode</dt><dd>${run.mode}</dd></div>
${typeof source.url === 'string' && /^https?:\/\//.test(source.url) ? html`<div><dt>Workflow run</dt><dd><a href="${source.url}">${source.url}</a></dd></div>` : ''}
</dl>
${reasons.length > 0 ? html`<ul id="reasons">${reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
${rejected.length > 0 ? html`<p>The bundle was rejected:</p><ul id="rejected">${rejected.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
</section>

<section>
<h2>Rules: observed vs expected</h2>
<table id="rules-table"><thead><tr><th>Rule</th><th>Metric</th><th>Expected</th><th>Observed</th><th>Status</th><th>Reason</th></tr></thead>
<tbody>${rules.map(
    (r) =>
      html`<tr class="rule-${r.status}"><td>${r.id}</td><td>${r.metric}</td><td>${r.op} ${r.expected}</td><td>${r.observed ?? '–'}</td><td>${r.status}</td><td>${r.reason}</td></tr>`,
  )}</tbody></table>
</section>

<section>
<h2>Failed tests</h2>
${
  view.failedTests.length === 0
    ? html`<p>None.</p>`
    : html`<table id="failed-tests"><thead><tr><th>Test</th><th>Where</th><th>Outcome</th><th>Message</th></tr></thead><tbody>${view.failedTests.map((t) => {
        const where = t.file ? `${t.file}${t.line !== null ? `:${t.line}` : ''}` : '–';
        const href = codeLink(source.url, run.projectId, run.headSha, t.file, t.line);
        return html`<tr><td class="test-id">${t.testId}</td><td>${href ? html`<a href="${href}">${where}</a>` : where}</td><td>${t.outcome}</td><td><pre>${t.message ?? ''}</pre></td></tr>`;
      })}</tbody></table>`
}
</section>

<section>
<h2>Steps</h2>
${renderChart('steps-chart', 'Step durations', {
  type: 'bar',
  unit: 's',
  labels: steps.map((s) => s.id),
  datasets: [{ label: 'duration (s)', data: steps.map((s) => s.durationMs / 1000), color: '#0969da' }],
})}
<table id="steps-table"><thead><tr><th>Step</th><th>Tool</th><th>Status</th><th>Attempts</th><th>Duration</th></tr></thead>
<tbody>${steps.map((s) => html`<tr><td>${s.id}</td><td>${s.tool}</td><td>${s.status}</td><td>${s.attempts}</td><td>${formatMs(s.durationMs)}</td></tr>`)}</tbody></table>
</section>

<section>
<h2>Approvals</h2>
<p id="approval-status">${approval.status ?? 'not recorded'}${approval.needed ? ` (${approval.needed} needed)` : ''}</p>
<table id="approvals-table"><thead><tr><th>By</th><th>At</th><th>Source</th></tr></thead>
<tbody>${list<{ by: string; at: string; source: string }>(approval.approvals).map((a) => html`<tr><td>${a.by}</td><td>${a.at}</td><td>${a.source}</td></tr>`)}
${list<{ by: string; reason: string }>(approval.rejected).map((r) => html`<tr><td>${r.by}</td><td colspan="2">rejected: ${r.reason}</td></tr>`)}</tbody></table>
</section>

<section>
<h2>Conflicts</h2>
<table id="conflicts-table"><thead><tr><th>Conflict</th><th>Kind</th><th>Status</th><th>What</th></tr></thead>
<tbody>${view.conflicts.map((c) => html`<tr><td>${c.id}</td><td>${c.kind}</td><td>${c.status}</td><td>${c.message}</td></tr>`)}
${evidenceConflicts.map((c) => html`<tr><td>in the run</td><td>${String(c.kind ?? '')}</td><td>${String(c.status ?? '')}</td><td>${String(c.message ?? '')}</td></tr>`)}</tbody></table>
</section>

<section>
<h2>Audit trail</h2>
<h3>The run's own trail (from its evidence)</h3>
${trail('run-trail', view.runTrail)}
<h3>What the bot recorded</h3>
${trail('bot-trail', view.botTrail)}
</section>`;
}
