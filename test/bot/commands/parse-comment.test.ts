import { describe, expect, it } from 'vitest';
import { grammarMarkdown, parseComment } from '../../../bot/commands/index.js';

describe('parseComment', () => {
  it.each([
    ['/qf approve', { verb: 'approve', reason: '' }],
    ['/QF Approve looks right to me', { verb: 'approve', reason: 'looks right to me' }],
    ['Thanks!\n\n  /qf reject   the migration drops a column  \nbye', { verb: 'reject', reason: 'the migration drops a column' }],
    ['/qf hold', { verb: 'hold', reason: '' }],
    ['/qf hold until the freeze ends', { verb: 'hold', reason: 'until the freeze ends' }],
    ['/qf unhold', { verb: 'unhold', reason: '' }],
    ['/qf RETRY', { verb: 'retry', reason: '' }],
    ['/qf status', { verb: 'status', reason: '' }],
    ['/qf help', { verb: 'help', reason: '' }],
  ])('reads %j', (body, expected) => {
    const parsed = parseComment(body);
    expect(parsed.kind).toBe('command');
    expect(parsed.kind === 'command' && { verb: parsed.command.verb, reason: parsed.command.reason }).toEqual(expected);
  });

  it.each([
    ['a plain comment'],
    ['I will /qf approve later'],
    ['> /qf approve\nquoted from someone else'],
    ['Example:\n```\n/qf approve\n```\n'],
    ['~~~md\n/qf reject x\n~~~'],
  ])('finds no command in %j', (body) => {
    expect(parseComment(body)).toEqual({ kind: 'none' });
  });

  it.each([
    ['/qf aprove', 'unknown command `aprove`, did you mean approve?'],
    ['/qf unhld', 'unknown command `unhld`, did you mean unhold?'],
    ['/qf merge now', 'unknown command `merge`'],
    ['/qf', 'no command follows `/qf`'],
    ['/qfapprove', '`/qf` must be followed by a space and a command; did you mean `/qf approve`?'],
    ['/qf reject', '`/qf reject <reason>` needs a reason'],
    ['/qf unhold please', '`/qf unhold` takes nothing after it, got "please"'],
    ['/qf status now', '`/qf status` takes nothing after it, got "now"'],
    [`/qf approve ${'x'.repeat(501)}`, 'the reason is 501 characters long; at most 500 are kept'],
    ['/qf approve\n/qf retry', 'the comment holds 2 commands; one comment carries one command, so none of them was run'],
    ['/qf approve\n/qf approve', 'the comment holds 2 commands; one comment carries one command, so none of them was run'],
  ])('refuses %j: %s', (body, reason) => {
    const parsed = parseComment(body);
    expect(parsed).toMatchObject({ kind: 'refused', reason });
    expect(parsed.kind === 'refused' && parsed.lines.length).toBeGreaterThan(0);
  });

  it('documents every verb in the grammar', () => {
    expect(grammarMarkdown()).toMatchInlineSnapshot(`
      "One command per comment, on its own line starting with \`/qf\` (any letter case). Edited comments never act.

      | command | what it does |
      |---|---|
      | \`/qf approve [reason]\` | approve the plan waiting on the head commit |
      | \`/qf reject <reason>\` | reject the plan; the gate reports it blocked until a new push |
      | \`/qf hold [reason]\` | hold the head commit (qualityfoundry/hold stays in progress) |
      | \`/qf unhold\` | release the hold and run the gate again |
      | \`/qf retry\` | run the latest gate workflow run again |
      | \`/qf resolve <id> <retry\\|override\\|merge\\|escalate> [reason]\` | settle a conflict between runs (merge takes the decision as its reason) |
      | \`/qf report [md\\|json\\|csv] [since:YYYY-MM-DD] [until:YYYY-MM-DD]\` | the compliance report of this repository and this pull request (write access) |
      | \`/qf status\` | refresh the status comment |
      | \`/qf help\` | show this grammar |"
    `);
  });
});
