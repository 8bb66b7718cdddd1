/**
 * What qf accepts in a policy file before it parses it. A pull request can propose a policy and a
 * repository can hold a hostile one; each limit turns a resource attack on the YAML parser into a
 * clear error with a position. Documented in the README ("Policy limits").
 */
export const PolicyLimit = {
  /** Bytes of the file. Real policies are a few KiB; a 5.8 MB one took 10 s and 829 MB to parse. */
  maxBytes: 256 * 1024,
  /** Nesting of mappings and lists. The schema's deepest path is 5 levels; past the limit the parser's recursion would overflow. */
  maxDepth: 32,
  /** Nodes that aliases (`*name`) may add when expanded: an alias bomb (a "billion laughs") stops here. */
  maxAliasNodes: 10_000,
} as const;
