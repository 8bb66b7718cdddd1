import type { RestEndpointMethodTypes } from '@octokit/plugin-rest-endpoint-methods';

/** REST shapes of the checks API, taken from octokit's generated types (never hand-written). */
export type CheckRunCreateParams = RestEndpointMethodTypes['checks']['create']['parameters'];
export type CheckRunOutput = NonNullable<CheckRunCreateParams['output']>;
export type CheckRunAnnotation = NonNullable<CheckRunOutput['annotations']>[number];
export type CheckRunConclusion = NonNullable<CheckRunCreateParams['conclusion']>;
export type CheckRunSummary = RestEndpointMethodTypes['checks']['listForRef']['response']['data']['check_runs'][number];

export interface RepoRef {
  owner: string;
  repo: string;
}
