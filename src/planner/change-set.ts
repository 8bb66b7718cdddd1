/** What changed: the planner's only input besides the policy. */
export interface ChangeSet {
  base: string | null;
  head: string | null;
  changedFiles: string[];
  labels: string[];
  /** Login of the pull request's author, when there is one (they may not approve by default). */
  author?: string;
  /** `qf run --head`: the steps ran on a clean checkout of `head`; the refs as given, which base and head resolved from. */
  checkout?: { base: string; head: string };
}
