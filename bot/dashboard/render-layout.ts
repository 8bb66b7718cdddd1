import { DASHBOARD_PATH, projectPath } from './dashboard-links.js';
import { html, jsonForScript, type SafeHtml } from './html.js';

export const ASSETS_PATH = `${DASHBOARD_PATH}/assets`;

export interface LayoutOptions {
  title: string;
  /** The project the page belongs to: its three pages are linked in the header. */
  projectId?: string;
  /** Set when logged in: the logout form carries the session's CSRF token. */
  session?: { name: string; csrf: string };
  /** Pages with charts load Chart.js and the drawing script; tables never need them. */
  charts?: boolean;
}

/** The page around every dashboard view: no inline script or style anywhere (the CSP forbids them). */
export function renderLayout(options: LayoutOptions, body: SafeHtml): string {
  const { projectId, session } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · QualityFoundry</title>
<link rel="stylesheet" href="${ASSETS_PATH}/dashboard.css">
<link rel="icon" href="${ASSETS_PATH}/favicon.svg" type="image/svg+xml">
${options.charts ? html`<script src="${ASSETS_PATH}/chart.umd.min.js" defer></script><script src="${ASSETS_PATH}/dashboard.js" defer></script>` : ''}
</head>
<body>
<header>
<a class="brand" href="${DASHBOARD_PATH}/">QualityFoundry</a>
${projectId ? html`<nav><a href="${projectPath(projectId)}">${projectId}</a> <a href="${projectPath(projectId)}/tests">tests</a></nav>` : ''}
${
  session
    ? html`<form class="logout" method="post" action="${DASHBOARD_PATH}/logout"><input type="hidden" name="csrf" value="${session.csrf}"><span>${session.name}</span> <button type="submit">Log out</button></form>`
    : ''
}
</header>
<main>
<h1>${options.title}</h1>
${body}
</main>
</body>
</html>
`.value;
}

export interface ChartSpec {
  type: 'bar' | 'line';
  labels: string[];
  datasets: Array<{ label: string; data: Array<number | null>; color?: string }>;
  stacked?: boolean;
  /** The y axis' unit, for the tooltip and the axis title. */
  unit?: string;
}

/** A canvas the drawing script fills, with its data beside it as JSON (data, never code). */
export function renderChart(id: string, caption: string, spec: ChartSpec): SafeHtml {
  return html`<figure class="chart"><canvas id="${id}" data-chart="${id}-data" role="img" aria-label="${caption}"></canvas><figcaption>${caption}</figcaption><script type="application/json" id="${id}-data">${jsonForScript(spec)}</script></figure>`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export function formatSeconds(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? '–' : formatMs(seconds * 1000);
}

export function formatPercent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? '–' : `${(ratio * 100).toFixed(1)} %`;
}

export const shortSha = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '–');
