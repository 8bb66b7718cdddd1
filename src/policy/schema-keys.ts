import type * as z from 'zod';

type AnySchema = z.ZodType & { def?: Record<string, unknown> };

/** Unwraps defaults, optionals and the like down to the schema that has a shape. */
function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (let depth = 0; depth < 10; depth++) {
    const def = current.def as { type?: string; innerType?: AnySchema } | undefined;
    if (def?.innerType && ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type ?? '')) {
      current = def.innerType;
    } else break;
  }
  return current;
}

/** The keys an object schema accepts at `path` (array indexes step into elements), for did-you-mean. */
export function knownKeysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current = unwrap(root as AnySchema);
  for (const segment of path) {
    const def = current.def as { type?: string; element?: AnySchema; shape?: Record<string, AnySchema>; valueType?: AnySchema };
    if (def.type === 'array' && typeof segment === 'number' && def.element) current = unwrap(def.element);
    else if (def.type === 'object' && def.shape && typeof segment === 'string' && def.shape[segment]) current = unwrap(def.shape[segment]);
    else if (def.type === 'record' && def.valueType) current = unwrap(def.valueType);
    else return [];
  }
  const shape = (current.def as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}
