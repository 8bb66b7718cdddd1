import type * as z from 'zod';
import type { PolicyParts } from './validate-policy.js';
import { GateRuleSchema, PlanRuleSchema, PolicySchema } from './schema.js';

/**
 * The parts of a policy that pass the schema on their own, for the semantic checks when the whole
 * file does not: each top-level section is parsed by itself, and the plan and gate lists entry by
 * entry (an invalid entry stays in its place as undefined, so positions keep their index).
 */
export function salvagePolicy(data: Record<string, unknown>): PolicyParts {
  const section = <T extends z.ZodType>(schema: T, value: unknown): z.infer<T> | undefined => {
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  };
  const entries = <T extends z.ZodType>(schema: T, value: unknown): (z.infer<T> | undefined)[] =>
    Array.isArray(value) ? value.map((entry) => section(schema, entry)) : [];
  const { shape } = PolicySchema;
  return {
    sandbox: section(shape.sandbox, data.sandbox),
    tools: section(shape.tools, data.tools),
    plan: entries(PlanRuleSchema, data.plan),
    approval: section(shape.approval, data.approval),
    gate: entries(GateRuleSchema, data.gate),
    gateway: section(shape.gateway, data.gateway),
  };
}
