/** The bot's command grammar: one parser, one table of verbs. */
export { parseComment, type Command, type ParsedComment } from './parse-comment.js';
export { APPROVER_VERBS, COMMAND_PREFIX, grammarMarkdown, MAX_REASON_LENGTH, VERB_NAMES, VERBS, type Verb } from './command-grammar.js';
