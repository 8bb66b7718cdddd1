/** Each command's usage, written once: `qf --help` lists them, and a command line that does not fit prints its own. */
export const COMMAND_USAGE = {
  run: `qf run --repo DIR [--policy FILE] [--base REF] [--head REF] [--changed FILE]... [--label NAME]...
       [--out DIR] [--approve | --approvals FILE] [--resume] [--json] [--sign-key FILE] [--cache-dir DIR] [--db PATH | --database-url URL]
       [--shard I/N [--timings JUNIT.xml|DURATIONS.json|EVIDENCE_DIR]]`,
  merge: 'qf merge --policy FILE [--total N] [--head SHA] [--out DIR] [--key PUBLIC_KEY.pem] [--json] DIR...',
  validate: 'qf validate FILE...',
  schema: 'qf schema [--evidence | --eval-suite]',
  verify: 'qf verify [--key PUBLIC_KEY.pem | --certificate-identity URI --trusted-root FILE [--certificate-oidc-issuer URL]] DIR|evidence.json',
  golden: 'qf golden [FILE]',
  metrics: 'qf metrics',
  audit: `qf audit verify [--chain NAME] [--json] [--db PATH | --database-url URL]
       qf audit list [--repo OWNER/NAME] [--chain NAME] [--actor A] [--action A] [--subject S] [--since DATE] [--until DATE] [--db PATH | --database-url URL]`,
  report: 'qf report --repo OWNER/NAME --since DATE [--until DATE] --format json|md|csv [--db PATH | --database-url URL]',
  checkpoint: `qf checkpoint list --repo OWNER/NAME [--json] [--db PATH | --database-url URL]
       qf checkpoint create --repo OWNER/NAME [--label TEXT] [--keep-last N] [--db PATH | --database-url URL]
       qf checkpoint restore ID [--db PATH | --database-url URL]`,
  mcp: `qf mcp [--db PATH | --database-url URL] [--repo DIR [--out DIR] [--policy FILE | --policy-ref REF]
       [--max-concurrent-runs N] [--max-runs-per-minute N]]   (MCP over stdio; QF_MCP_TOKEN: authenticate as a token)`,
} as const;

export type CommandName = keyof typeof COMMAND_USAGE;
