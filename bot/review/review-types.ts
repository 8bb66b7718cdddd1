import type { ProbotOctokit } from 'probot';
import type { Logger } from 'pino';
import type { BotDeps } from '../bot-deps.js';

export interface Repo {
  owner: string;
  repo: string;
}

/** Who gave a command: the comment's author or the person who clicked a check-run button. */
export interface Actor {
  login: string;
  /** GitHub's account type: `User`, `Bot`, `Organization`. */
  type: string;
}

export interface PullRequestInfo {
  number: number;
  headSha: string;
  baseSha: string;
  author: string;
  open: boolean;
  htmlUrl: string;
}

/** Everything one command or event needs to act on one repository. */
export interface ReviewScope {
  deps: BotDeps;
  octokit: ProbotOctokit;
  repo: Repo;
  /** `owner/name`: the store's project id and the audit chain's. */
  projectId: string;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export const shortSha = (sha: string): string => sha.slice(0, 7);
export const shortHash = (hash: string): string => hash.slice(0, 12);
