/** The URI template of a run's evidence bundle; run ids may hold `/` and `:` (bot runs), so the id is percent-encoded. */
export const EVIDENCE_URI_TEMPLATE = 'qf://runs/{runId}/evidence.json';

export const evidenceUri = (runId: string): string => `qf://runs/${encodeURIComponent(runId)}/evidence.json`;
