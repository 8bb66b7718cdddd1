import { didYouMean } from '../../src/policy/did-you-mean.js';
import { COMMAND_PREFIX, MAX_REASON_LENGTH, VERB_NAMES, VERBS, type Verb } from './command-grammar.js';

export interface Command {
  verb: Verb;
  /** The reason for approve/reject/hold; empty when none was given. */
  reason: string;
  /** The line as written, for quoting in answers. */
  line: string;
}

export type ParsedComment =
  /** No line starts with `/qf`: the comment is conversation, not a command. */
  | { kind: 'none' }
  | { kind: 'command'; command: Command }
  /** Command lines that do not parse (or too many of them): answered, never executed. */
  | { kind: 'refused'; lines: string[]; reason: string };

/**
 * Reads the command out of a comment body. Strict: exactly one command line per comment, a known
 * verb, and the arguments the verb takes. Lines inside fenced code blocks are examples, not commands;
 * quoted lines (`> /qf approve`) do not start with `/qf` and never act.
 */
export function parseComment(body: string): ParsedComment {
  const lines = commandLines(body);
  if (lines.length === 0) return { kind: 'none' };
  if (lines.length > 1) {
    return { kind: 'refused', lines, reason: `the comment holds ${lines.length} commands; one comment carries one command, so none of them was run` };
  }
  const line = lines[0]!;
  const result = parseLine(line);
  return 'refusal' in result ? { kind: 'refused', lines, reason: result.refusal } : { kind: 'command', command: result };
}

function commandLines(body: string): string[] {
  const found: string[] = [];
  let fence: string | null = null;
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    const opener = /^(`{3,}|~{3,})/.exec(line)?.[1];
    if (opener) {
      if (fence === null) fence = opener[0]!;
      else if (opener[0] === fence) fence = null;
      continue;
    }
    if (fence === null && line.toLowerCase().startsWith(COMMAND_PREFIX)) found.push(line);
  }
  return found;
}

function parseLine(line: string): Command | { refusal: string } {
  const rest = line.slice(COMMAND_PREFIX.length);
  if (rest !== '' && !/^\s/.test(rest)) {
    const guess = didYouMean(rest, VERB_NAMES);
    return { refusal: `\`${COMMAND_PREFIX}\` must be followed by a space and a command${guess ? `; did you mean \`${COMMAND_PREFIX} ${guess}\`?` : ''}` };
  }
  const [word = '', ...words] = rest.trim().split(/\s+/).filter(Boolean);
  if (word === '') return { refusal: 'no command follows `/qf`' };
  const verb = word.toLowerCase();
  if (!isVerb(verb)) {
    const guess = didYouMean(verb, VERB_NAMES);
    return { refusal: `unknown command \`${word}\`${guess ? `, did you mean ${guess}?` : ''}` };
  }
  const reason = words.join(' ');
  const { args, usage } = VERBS[verb];
  if (args === 'none' && reason !== '') return { refusal: `\`${usage}\` takes nothing after it, got "${reason.slice(0, 80)}"` };
  if (args === 'required-reason' && reason === '') return { refusal: `\`${usage}\` needs a reason` };
  if (reason.length > MAX_REASON_LENGTH) return { refusal: `the reason is ${reason.length} characters long; at most ${MAX_REASON_LENGTH} are kept` };
  return { verb, reason, line };
}

function isVerb(word: string): word is Verb {
  return Object.hasOwn(VERBS, word);
}
