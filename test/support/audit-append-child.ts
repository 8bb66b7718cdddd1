/**
 * A separate process that appends audit events as fast as it can and prints `ack SEQ HASH` after
 * each append() has returned (i.e. is durable). Used by the SIGKILL and concurrent-writer tests.
 * argv: CONNECTION_JSON CHAIN LABEL COUNT (COUNT 0 = until killed) [PARALLEL]
 */
import { ComplianceAuditor } from '../../src/governance/index.js';
import { openStore, type StoreConnection } from '../../src/store/index.js';

const [connectionJson, chain, label, countText, parallelText] = process.argv.slice(2);
const connection = JSON.parse(connectionJson ?? '{}') as StoreConnection;
const count = Number(countText ?? '0');
const parallel = Number(parallelText ?? '4');

const store = await openStore(connection);
const auditor = new ComplianceAuditor(store, { chain: chain ?? 'test', projectId: 'acme/widgets' });
let next = 0;

async function worker(): Promise<void> {
  while (count === 0 || next < count) {
    const i = next++;
    const event = await auditor.append({ actor: label ?? 'child', action: 'test.append', subject: `${label}-${i}`, data: { i } });
    process.stdout.write(`ack ${event.seq} ${event.hash} ${label}-${i}\n`);
  }
}

await Promise.all(Array.from({ length: parallel }, worker));
await store.close();
