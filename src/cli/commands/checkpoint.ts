import { ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { ComplianceAuditor, createCheckpoint, listCheckpoints, projectChain, readCheckpoint, restoreCheckpoint } from '../../governance/index.js';
import { openStore } from '../../store/index.js';
import type { CliIo } from '../cli-io.js';
import { STORE_FLAGS, storeConnectionFromFlags } from '../store-flags.js';
import { parseFlags } from '../parse-flags.js';

type Io = Pick<CliIo, 'stdout' | 'stderr'>;

/** `qf checkpoint list|create|restore`; creations and restores are audited on the project's chain. */
export async function checkpointCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      ...STORE_FLAGS,
      repo: { type: 'string' },
      label: { type: 'string' },
      'keep-last': { type: 'string' },
      json: { type: 'boolean', default: false },
      actor: { type: 'string', default: 'qf' },
    },
  });
  const [sub, id] = positionals;
  if (sub !== 'list' && sub !== 'create' && sub !== 'restore') throw new QfError('USAGE', `expected 'list', 'create' or 'restore'`);
  if (sub === 'restore' ? !id : !values.repo) throw new QfError('USAGE', `${sub === 'restore' ? 'a checkpoint ID' : '--repo OWNER/NAME'} is required`);
  const keepLast = values['keep-last'] === undefined ? undefined : Number(values['keep-last']);
  const store = await openStore(storeConnectionFromFlags(values, { mustExist: true }));
  try {
    if (sub === 'list') {
      const list = await listCheckpoints(store, values.repo as string);
      if (values.json) io.stdout(`${JSON.stringify(list, null, 2)}\n`);
      else for (const c of list) io.stdout(`${c.id}  ${c.createdAt}  ${c.artifactCount} artifacts  ${c.size} bytes  ${c.label}\n`);
      return ExitCode.pass;
    }
    const projectId = sub === 'restore' ? (await readCheckpoint(store, id as string)).meta.projectId : (values.repo as string);
    const auditor = new ComplianceAuditor(store, { chain: projectChain(projectId), projectId });
    const audit = (e: Parameters<ComplianceAuditor['append']>[0]) => auditor.append(e);
    const meta =
      sub === 'create'
        ? await createCheckpoint(store, projectId, { label: values.label, keepLast, audit, actor: values.actor })
        : await restoreCheckpoint(store, id as string, { audit, actor: values.actor });
    io.stdout(`${sub === 'create' ? 'created' : 'restored'} ${meta.id} (${meta.projectId}, ${meta.artifactCount} artifacts)\n`);
    return ExitCode.pass;
  } finally {
    await store.close();
  }
}
