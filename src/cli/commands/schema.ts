import { parseArgs } from 'node:util';
import { evidenceJsonSchema, policyJsonSchema, renderJsonSchema } from '../json-schemas.js';
import type { CliIo } from '../cli-io.js';

/** `qf schema [--evidence]`: prints the policy's (or evidence's) JSON Schema. */
export async function schemaCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { evidence: { type: 'boolean', default: false } }, strict: true });
  io.stdout(renderJsonSchema(values.evidence ? evidenceJsonSchema() : policyJsonSchema()));
  return 0;
}
