/** The dashboard's URLs, shared by its pages and by the bot's comments (QF_PUBLIC_URL + these). */
export const DASHBOARD_PATH = '/dashboard';

export const projectPath = (projectId: string): string => `${DASHBOARD_PATH}/${projectId.split('/').map(encodeURIComponent).join('/')}`;

/** Ingested runs (`gh:<project>:<run>.<attempt>`) get the short key `<run>.<attempt>`; any other id is kept whole. */
export function runPath(projectId: string, runId: string): string {
  const prefix = `gh:${projectId}:`;
  const key = runId.startsWith(prefix) && /^\d+\.\d+$/.test(runId.slice(prefix.length)) ? runId.slice(prefix.length) : runId;
  return `${projectPath(projectId)}/runs/${encodeURIComponent(key)}`;
}

/** The store id a run key of runPath stands for. */
export const runIdOfKey = (projectId: string, key: string): string => (/^\d+\.\d+$/.test(key) ? `gh:${projectId}:${key}` : key);

export const testPath = (projectId: string, testId: string): string => `${projectPath(projectId)}/tests/history?id=${encodeURIComponent(testId)}`;
