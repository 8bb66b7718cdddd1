import { ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { verifyStoredChains } from '../../governance/index.js';
import { openStore } from '../../store/index.js';
import type { CliIo } from '../cli-io.js';
import { STORE_FLAGS, storeConnectionFromFlags } from '../store-flags.js';
import { parseFlags } from '../parse-flags.js';

type Io = Pick<CliIo, 'stdout' | 'stderr'>;

/**
 * `qf audit verify`: re-hashes every stored audit chain; exit 0 when all verify, 2 naming the
 * first broken chain and seq. `qf audit list`: the events matching the filters, as JSON lines.
 */
export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      ...STORE_FLAGS,
      chain: { type: 'string' },
      json: { type: 'boolean', default: false },
      repo: { type: 'string' },
      actor: { type: 'string' },
      action: { type: 'string' },
      subject: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
    },
  });
  const sub = positionals[0];
  if (positionals.length !== 1 || (sub !== 'verify' && sub !== 'list')) throw new QfError('USAGE', `expected 'verify' or 'list'`);
  const store = await openStore(storeConnectionFromFlags(values, { mustExist: true }));
  try {
    if (sub === 'list') {
      const events = await store.listAudit({
        chain: values.chain,
        projectId: values.repo,
        actor: values.actor,
        action: values.action,
        subject: values.subject,
        since: values.since,
        until: values.until,
      });
      for (const event of events) io.stdout(`${JSON.stringify(event)}\n`);
      return ExitCode.pass;
    }
    const result = await verifyStoredChains(store, values.chain);
    if (values.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    else
      for (const c of result.chains) io.stdout(c.ok ? `ok      ${c.chain} (${c.count} events)\n` : `BROKEN  ${c.chain} at seq ${c.brokenSeq}: ${c.reason}\n`);
    if (!result.ok) {
      const broken = result.firstBroken;
      io.stderr(`qf: audit chain '${broken?.chain}' in ${store.location} is broken at seq ${broken?.seq}: ${broken?.reason}\n`);
      return ExitCode.badInput;
    }
    return ExitCode.pass;
  } finally {
    await store.close();
  }
}
