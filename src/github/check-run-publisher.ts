import type { GitHubClient } from './create-github-client.js';
import type { CheckRunAnnotation, CheckRunConclusion, CheckRunOutput, RepoRef } from './check-run-types.js';
import { callGitHub } from './call-github.js';
import { PlatformLimit } from './limits.js';

export interface CheckRunTarget {
  repo: RepoRef;
  name: string;
  headSha: string;
  detailsUrl?: string;
  externalId?: string;
}

export interface CompletedCheckRun {
  conclusion: CheckRunConclusion;
  output: Omit<CheckRunOutput, 'annotations'>;
  annotations?: CheckRunAnnotation[];
}

/**
 * One check run's life: created in_progress, updated as steps finish, completed with a conclusion.
 * Annotations go 50 per request: the completing request carries the first batch, later updates append
 * the rest (GitHub keeps the annotations of every update).
 */
export class CheckRunPublisher {
  #id: number | null = null;
  #htmlUrl: string | null = null;

  constructor(
    private readonly octokit: GitHubClient,
    private readonly target: CheckRunTarget,
  ) {}

  get id(): number | null {
    return this.#id;
  }

  get htmlUrl(): string | null {
    return this.#htmlUrl;
  }

  async start(output: Omit<CheckRunOutput, 'annotations'>): Promise<number> {
    const { data } = await callGitHub('create check run', () =>
      this.octokit.rest.checks.create({
        ...this.target.repo,
        name: this.target.name,
        head_sha: this.target.headSha,
        status: 'in_progress',
        ...(this.target.detailsUrl ? { details_url: this.target.detailsUrl } : {}),
        ...(this.target.externalId ? { external_id: this.target.externalId } : {}),
        output,
      }),
    );
    this.#id = Number(data.id);
    this.#htmlUrl = data.html_url;
    return Number(data.id);
  }

  async update(output: Omit<CheckRunOutput, 'annotations'>): Promise<void> {
    if (this.#id === null) return;
    const checkRunId = this.#id;
    await callGitHub('update check run', () => this.octokit.rest.checks.update({ ...this.target.repo, check_run_id: checkRunId, output }));
  }

  /** Completes the run (creating it first when start() was never reached), then appends annotations. */
  async complete(result: CompletedCheckRun): Promise<number> {
    const batches = chunk(result.annotations ?? [], PlatformLimit.annotationsPerRequest);
    const [first = [], ...rest] = batches;
    const output = { ...result.output, ...(first.length ? { annotations: first } : {}) };
    const completion = { status: 'completed' as const, conclusion: result.conclusion, output };
    if (this.#id === null) {
      const { data } = await callGitHub('create check run', () =>
        this.octokit.rest.checks.create({
          ...this.target.repo,
          name: this.target.name,
          head_sha: this.target.headSha,
          ...(this.target.detailsUrl ? { details_url: this.target.detailsUrl } : {}),
          ...(this.target.externalId ? { external_id: this.target.externalId } : {}),
          ...completion,
        }),
      );
      this.#id = Number(data.id);
      this.#htmlUrl = data.html_url;
    } else {
      const checkRunId = this.#id;
      await callGitHub('complete check run', () => this.octokit.rest.checks.update({ ...this.target.repo, check_run_id: checkRunId, ...completion }));
    }
    const checkRunId = this.#id as number;
    for (const batch of rest) {
      await callGitHub('add annotations', () =>
        this.octokit.rest.checks.update({ ...this.target.repo, check_run_id: checkRunId, output: { ...result.output, annotations: batch } }),
      );
    }
    return checkRunId;
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let index = 0; index < items.length; index += size) batches.push(items.slice(index, index + size));
  return batches;
}
