import * as z from 'zod';
import { EvidenceSchema } from '../evidence/schema.js';
import { PolicySchema } from '../policy/schema.js';
import { SuiteSchema } from '../tools/evals/suite-schema.js';

/** JSON Schemas generated from the zod schemas; committed under policies/ for editors. */
export function policyJsonSchema(): unknown {
  return z.toJSONSchema(PolicySchema, { io: 'input', target: 'draft-2020-12' });
}

export function evidenceJsonSchema(): unknown {
  return z.toJSONSchema(EvidenceSchema, { io: 'output', target: 'draft-2020-12' });
}

export function evalSuiteJsonSchema(): unknown {
  return z.toJSONSchema(SuiteSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
}

export const GENERATED_SCHEMAS = {
  'policies/schema.json': policyJsonSchema,
  'policies/evidence.schema.json': evidenceJsonSchema,
  'policies/eval-suite.schema.json': evalSuiteJsonSchema,
} as const;

export function renderJsonSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
