import type { CliIo } from '../cli-io.js';
import { evalSuiteJsonSchema, evidenceJsonSchema, policyJsonSchema, renderJsonSchema } from '../json-schemas.js';
import { parseFlags } from '../parse-flags.js';

/** `qf schema [--evidence | --eval-suite]`: prints the policy's (or evidence's, or an eval suite's) JSON Schema. */
export async function schemaCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: { evidence: { type: 'boolean', default: false }, 'eval-suite': { type: 'boolean', default: false } },
    strict: true,
  });
  io.stdout(renderJsonSchema(values.evidence ? evidenceJsonSchema() : values['eval-suite'] ? evalSuiteJsonSchema() : policyJsonSchema()));
  return 0;
}
