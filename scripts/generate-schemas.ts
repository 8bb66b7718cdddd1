/**
 * Writes the JSON Schemas generated from the zod schemas (policies/schema.json,
 * policies/evidence.schema.json). With --check, writes nothing and exits 1 when a committed file
 * is stale, which is how CI keeps them honest.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { GENERATED_SCHEMAS, renderJsonSchema } from '../src/cli/json-schemas.js';

const check = process.argv.includes('--check');
let stale = 0;
for (const [file, generate] of Object.entries(GENERATED_SCHEMAS)) {
  const fresh = renderJsonSchema(generate());
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current === fresh) continue;
  if (check) {
    console.error(`${file} is stale: run \`npm run schema\` and commit it.`);
    stale++;
  } else {
    await writeFile(file, fresh);
    console.log(`wrote ${file}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
