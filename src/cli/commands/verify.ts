import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { verificationKeyFromPem } from '../../evidence/dsse.js';
import { verifyEvidence } from '../../evidence/verify-evidence.js';
import type { CliIo } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';

/**
 * `qf verify`: re-checks evidence strictly (no unknown members, duplicate keys or unlisted files),
 * every digest, the audit chain and the seal, and with `--key` the DSSE signature. Exit 0 intact,
 * 1 not intact, 2 bad input (no such folder, unreadable key).
 */
export async function verifyCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({ args: argv, options: { key: { type: 'string' } }, allowPositionals: true, strict: true });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new QfError('USAGE', 'expected one DIR or evidence.json');
  let publicKey;
  if (values.key) {
    const keyFile = path.resolve(io.cwd, values.key);
    const pem = await readFile(keyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new QfError('BAD_INPUT', `--key: cannot read ${keyFile} (${error.code ?? error.message}); expected a PEM public key.`, { cause: error });
    });
    publicKey = verificationKeyFromPem(pem, `--key ${values.key}`);
  }
  const check = await verifyEvidence(path.resolve(io.cwd, target), publicKey ? { publicKey } : {});
  if (!check.ok) {
    io.stderr(`✗ ${target}: ${check.problem}\n`);
    return ExitCode.gateFailed;
  }
  const { evidence } = check;
  const signed = check.signedBy ? `; signed by key ${check.signedBy.slice(0, 16)}…` : '; signature not checked (no --key)';
  io.stdout(
    `✔ ${target}: ${check.checkedArtifacts} artifacts match their digests; audit chain of ${evidence.audit.length} events intact${signed}; verdict ${evidence.gate.verdict}${evidence.complete ? '' : ` (evidence marked incomplete: ${evidence.incompleteReason})`}\n`,
  );
  return ExitCode.pass;
}
