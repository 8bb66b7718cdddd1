import type { Policy } from '../../src/policy/schema.js';
import { callGitHub, GitHubApiError } from '../../src/github/call-github.js';
import type { Actor, PullRequestInfo, ReviewScope } from './review-types.js';

export const LEVELS = ['none', 'read', 'triage', 'write', 'maintain', 'admin'] as const;
export type Level = (typeof LEVELS)[number];

export type Authorization = { ok: true; permission: Level } | { ok: false; permission: Level; reason: string };

/**
 * Whether `actor` may approve, reject, hold or retry, by the policy of the pull request's BASE
 * commit: never a bot; not the author nor any commit author unless `allow_author`; at least
 * `min_permission`; and, when the policy names users or teams, one of those users or a member of
 * one of those teams.
 */
export async function authorizeReviewer(scope: ReviewScope, options: { actor: Actor; pull: PullRequestInfo; policy: Policy }): Promise<Authorization> {
  const { actor, pull, policy } = options;
  const login = actor.login;
  if (actor.type === 'Bot' || /\[bot\]$/i.test(login))
    return { ok: false, permission: 'none', reason: `@${login} is a bot account; bots never approve, reject or hold` };
  const approval = policy.approval;
  if (!approval.allow_author) {
    if (same(login, pull.author))
      return {
        ok: false,
        permission: 'none',
        reason: `@${login} is the author of this pull request; authors may not approve their own change (approval.allow_author is false)`,
      };
    const commit = await commitBy(scope, pull.number, login);
    if (commit)
      return {
        ok: false,
        permission: 'none',
        reason: `@${login} authored commit ${commit.slice(0, 7)} of this pull request; commit authors may not approve (approval.allow_author is false)`,
      };
  }
  const permission = await permissionOf(scope, login);
  if (permission === 'none') return { ok: false, permission, reason: `@${login} is not a collaborator of ${scope.projectId}` };
  const min = approval.approvers.min_permission;
  if (LEVELS.indexOf(permission) < LEVELS.indexOf(min)) {
    return { ok: false, permission, reason: `@${login} has permission \`${permission}\` < \`${min}\` (approval.approvers.min_permission)` };
  }
  const { users, teams } = approval.approvers;
  if (users.length === 0 && teams.length === 0) return { ok: true, permission };
  if (users.some((user) => same(user.replace(/^@/, ''), login))) return { ok: true, permission };
  for (const team of teams) if (await isTeamMember(scope, team, login)) return { ok: true, permission };
  const inTeam = teams.length ? `in team ${teams.join(', ')}` : '';
  const inUsers = users.length ? `among approval.approvers.users (${users.join(', ')})` : '';
  return { ok: false, permission, reason: `@${login} is not ${[inTeam, inUsers].filter(Boolean).join(' nor ')}` };
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

async function commitBy(scope: ReviewScope, pullNumber: number, login: string): Promise<string | null> {
  const commits = await callGitHub(`list the commits of #${pullNumber}`, () =>
    scope.octokit.paginate(scope.octokit.rest.pulls.listCommits, { ...scope.repo, pull_number: pullNumber, per_page: 100 }),
  );
  const found = commits.find((commit) => [commit.author?.login, commit.committer?.login].some((candidate) => candidate && same(candidate, login)));
  return found?.sha ?? null;
}

export async function permissionOf(scope: ReviewScope, login: string): Promise<Level> {
  try {
    const { data } = await callGitHub(`read the permission of @${login}`, () =>
      scope.octokit.rest.repos.getCollaboratorPermissionLevel({ ...scope.repo, username: login }),
    );
    // role_name carries triage and maintain, which `permission` folds into read and write.
    const role = (data as { role_name?: string }).role_name;
    if (role && (LEVELS as readonly string[]).includes(role)) return role as Level;
    return (LEVELS as readonly string[]).includes(data.permission) ? (data.permission as Level) : 'none';
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 404) return 'none';
    throw error;
  }
}

async function isTeamMember(scope: ReviewScope, team: string, login: string): Promise<boolean> {
  const [org, slug] = team.includes('/') ? (team.split('/', 2) as [string, string]) : [scope.repo.owner, team];
  try {
    const { data } = await callGitHub(`read the membership of @${login} in ${org}/${slug}`, () =>
      scope.octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login }),
    );
    return data.state === 'active';
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 404) return false;
    throw error;
  }
}
