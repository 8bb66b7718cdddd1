import type { Policy } from '../policy/schema.js';

/**
 * What the SecureGateway's vetoes say in the verdict's reasons. In strict mode any veto blocks
 * (DESIGN.md, governance modes); in the other modes a vetoed eval case counts as not passed, no more.
 */
export function vetoFindings(mode: Policy['mode'], vetoes: ReadonlyArray<Record<string, unknown>>): string[] {
  if (mode !== 'strict') return [];
  return vetoes.map((veto) => `The SecureGateway vetoed ${String(veto.taskId)}: ${String(veto.message)}`);
}
