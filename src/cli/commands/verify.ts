import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode } from '../../constants.js';
import { QfError } from '../../errors.js';
import { verificationKeyFromPem } from '../../evidence/dsse.js';
import { verifyEvidence } from '../../evidence/verify-evidence.js';
import type { CliIo } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';
import type { KeylessIdentity } from '../../evidence/sigstore-evidence.js';

/** GitHub Actions' OIDC issuer: what Fulcio records for a workflow's token. */
const GITHUB_ACTIONS_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * `qf verify`: re-checks evidence strictly (no unknown members, duplicate keys or unlisted files),
 * every digest, the audit chain and the seal, with `--key` the DSSE signature, and with
 * `--certificate-identity` (and `--trusted-root`) the keyless Sigstore signature. Exit 0 intact,
 * 1 not intact, 2 bad input (no such folder, unreadable key).
 */
export async function verifyCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    options: {
      key: { type: 'string' },
      'certificate-identity': { type: 'string' },
      'certificate-oidc-issuer': { type: 'string', default: GITHUB_ACTIONS_OIDC_ISSUER },
      'trusted-root': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
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
  const keyless = await keylessIdentity(values, io);
  const check = await verifyEvidence(path.resolve(io.cwd, target), { ...(publicKey ? { publicKey } : {}), ...(keyless ? { keyless } : {}) });
  if (!check.ok) {
    io.stderr(`✗ ${target}: ${check.problem}\n`);
    return ExitCode.gateFailed;
  }
  const { evidence } = check;
  const signed = check.signedBy ? `; signed by ${check.signedBy}` : '; signature not checked (no --key)';
  io.stdout(
    `✔ ${target}: ${check.checkedArtifacts} artifacts match their digests; audit chain of ${evidence.audit.length} events intact${signed}; verdict ${evidence.gate.verdict}${evidence.complete ? '' : ` (evidence marked incomplete: ${evidence.incompleteReason})`}\n`,
  );
  return ExitCode.pass;
}

/** `--certificate-identity` (with the trusted root it is checked against) for a keyless signature. */
async function keylessIdentity(
  values: { 'certificate-identity'?: string; 'certificate-oidc-issuer'?: string; 'trusted-root'?: string },
  io: CliIo,
): Promise<KeylessIdentity | undefined> {
  const identity = values['certificate-identity'];
  if (identity === undefined) {
    if (values['trusted-root'] !== undefined) throw new QfError('USAGE', '--trusted-root goes with --certificate-identity');
    return undefined;
  }
  if (values['trusted-root'] === undefined)
    throw new QfError('USAGE', '--certificate-identity needs --trusted-root FILE: the Sigstore trusted root (TrustedRoot JSON) whose CA and logs to trust');
  const rootFile = path.resolve(io.cwd, values['trusted-root']);
  const text = await readFile(rootFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new QfError('BAD_INPUT', `--trusted-root: cannot read ${rootFile} (${error.code ?? error.message}).`, { cause: error });
  });
  let trustedRoot: unknown;
  try {
    trustedRoot = JSON.parse(text);
  } catch (error) {
    throw new QfError('BAD_INPUT', `--trusted-root: ${rootFile} is not JSON (${(error as Error).message}); expected a Sigstore TrustedRoot.`, { cause: error });
  }
  return { certificateIdentity: identity, certificateOidcIssuer: values['certificate-oidc-issuer'] ?? GITHUB_ACTIONS_OIDC_ISSUER, trustedRoot };
}
