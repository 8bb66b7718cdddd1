/**
 * The one command grammar of the bot. A command is a line of a new comment that starts with `/qf`,
 * then a verb (any letter case) and what the verb takes. Nothing else in a comment acts.
 */
export const COMMAND_PREFIX = '/qf';

/** What a verb takes after it. */
export type Arguments = 'none' | 'optional-reason' | 'required-reason';

export const VERBS = {
  approve: { args: 'optional-reason', usage: '/qf approve [reason]', says: 'approve the plan waiting on the head commit' },
  reject: { args: 'required-reason', usage: '/qf reject <reason>', says: 'reject the plan; the gate reports it blocked until a new push' },
  hold: { args: 'optional-reason', usage: '/qf hold [reason]', says: 'hold the head commit (qualityfoundry/hold stays in progress)' },
  unhold: { args: 'none', usage: '/qf unhold', says: 'release the hold and run the gate again' },
  retry: { args: 'none', usage: '/qf retry', says: 'run the latest gate workflow run again' },
  resolve: {
    args: 'required-reason',
    usage: '/qf resolve <id> <retry|override|merge|escalate> [reason]',
    says: 'settle a conflict between runs (merge takes the decision as its reason)',
  },
  report: {
    args: 'optional-reason',
    usage: '/qf report [md|json|csv] [since:YYYY-MM-DD] [until:YYYY-MM-DD]',
    says: 'the compliance report of this repository and this pull request (write access)',
  },
  status: { args: 'none', usage: '/qf status', says: 'refresh the status comment' },
  help: { args: 'none', usage: '/qf help', says: 'show this grammar' },
} as const satisfies Record<string, { args: Arguments; usage: string; says: string }>;

export type Verb = keyof typeof VERBS;
export const VERB_NAMES = Object.keys(VERBS) as Verb[];

/** Verbs that change the gate's outcome: only approvers of the base policy may give them. */
export const APPROVER_VERBS: ReadonlySet<Verb> = new Set(['approve', 'reject', 'hold', 'unhold', 'retry', 'resolve']);

/** Longest reason kept; a reason goes into check-run titles and summaries. */
export const MAX_REASON_LENGTH = 500;

/** The grammar as Markdown, for help and for every refusal. */
export function grammarMarkdown(): string {
  // A `|` splits a table cell even inside a code span (GFM), so it is escaped.
  const rows = VERB_NAMES.map((verb) => `| \`${VERBS[verb].usage.replace(/\|/g, '\\|')}\` | ${VERBS[verb].says} |`);
  return [
    'One command per comment, on its own line starting with `/qf` (any letter case). Edited comments never act.',
    '',
    '| command | what it does |',
    '|---|---|',
    ...rows,
  ].join('\n');
}
