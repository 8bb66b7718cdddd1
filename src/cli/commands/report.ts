import { ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { buildComplianceReport, renderComplianceReport, type ReportFormat } from '../../governance/index.js';
import { openStore } from '../../store/index.js';
import type { CliIo } from '../cli-io.js';
import { STORE_FLAGS, storeConnectionFromFlags } from '../store-flags.js';
import { parseFlags } from '../parse-flags.js';

type Io = Pick<CliIo, 'stdout' | 'stderr'>;

const FORMATS: readonly ReportFormat[] = ['json', 'md', 'csv'];

/** `qf report`: the compliance report of one repository over a period, on stdout. */
export async function reportCommand(argv: string[], io: Io, now: () => Date = () => new Date()): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: {
      ...STORE_FLAGS,
      repo: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      format: { type: 'string', default: 'md' },
    },
  });
  if (!values.repo || !/^[\w.-]+\/[\w.-]+$/.test(values.repo)) throw new QfError('BAD_INPUT', `--repo is '${values.repo ?? ''}'; expected OWNER/NAME`);
  if (!values.since) throw new QfError('USAGE', '--since is required');
  const format = values.format as ReportFormat;
  if (!FORMATS.includes(format)) throw new QfError('BAD_INPUT', `--format is '${values.format}'; expected json, md or csv`);
  const since = parseDate(values.since, '--since');
  const until = values.until ? parseDate(values.until, '--until') : now().toISOString();
  if (until <= since) throw new QfError('BAD_INPUT', `--until (${until}) is not after --since (${since})`);
  const store = await openStore(storeConnectionFromFlags(values, { mustExist: true }));
  try {
    const report = await buildComplianceReport(store, { repo: values.repo, since, until, now: now() });
    io.stdout(renderComplianceReport(report, format));
    return ExitCode.pass;
  } finally {
    await store.close();
  }
}

/** `2025-01-31` is midnight UTC; anything else must be a full ISO-8601 time. */
function parseDate(value: string, flag: string): string {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new QfError('BAD_INPUT', `${flag} is '${value}'; expected a date like 2025-01-31 or 2025-01-31T12:00:00Z`);
  return new Date(ms).toISOString();
}
