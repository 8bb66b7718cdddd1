import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EvidenceFile } from '../constants.js';
import { QfError } from '../errors.js';

/** Where a run keeps what its version probe writes; removed after the probe. */
export const PROBE_FOLDER = '.probe';

/** What a run of qf leaves in its output folder; an earlier run's folder holds nothing else. */
const QF_ENTRIES = new Set<string>([
  EvidenceFile.evidence,
  EvidenceFile.runState,
  EvidenceFile.summary,
  EvidenceFile.reportsDir,
  EvidenceFile.shardsDir,
  PROBE_FOLDER,
  EvidenceFile.gitignore,
]);
/**
 * The default folder lies in the repository (DIR/qf-out): ignored by git from inside, it never
 * shows up in the user's `git status`, whatever their own .gitignore says.
 */
const GITIGNORE = "# qf's evidence folder: not part of the repository.\n*\n";
/** writeFileAtomic's temporary files, left by a run that was killed mid-write. */
const TEMPORARY = /^\..+\.[0-9a-f]{12}\.tmp$/;

const LISTED = 5;

function list(names: readonly string[]): string {
  return names.slice(0, LISTED).join(', ') + (names.length > LISTED ? ` and ${names.length - LISTED} more` : '');
}

/**
 * Makes `outDir` ready for a run. The folder may come from the repository under test (the default
 * `--out` is inside the checkout), so qf never follows a link it did not create: an output folder
 * that is a link, or holds a link, a pipe or a device anywhere, is refused with what was found.
 * A new run starts from a folder qf creates itself: an earlier run's folder (nothing in it but what
 * qf writes) is removed and created anew; a folder holding anything else is refused rather than
 * emptied, since it may be someone's files. A resumed run continues in its folder.
 */
export async function prepareOutputFolder(outDir: string, options: { resume: boolean }): Promise<void> {
  const info = await lstat(outDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new QfError('BAD_INPUT', `Output folder ${outDir} cannot be examined: ${error.message}`, { cause: error });
  });
  if (!info) {
    if (options.resume) throw new QfError('BAD_INPUT', `Cannot resume: the output folder ${outDir} does not exist.`);
    await mkdir(path.dirname(outDir), { recursive: true });
    await createOwnFolder(outDir, 'Output folder');
    return writeGitignore(outDir);
  }
  if (info.isSymbolicLink()) {
    const target = await readlink(outDir).catch(() => '?');
    throw new QfError(
      'BAD_INPUT',
      `Output folder ${outDir} is a symbolic link (to ${target}); qf writes evidence only into a real folder it creates. Remove the link or choose another --out.`,
    );
  }
  if (!info.isDirectory()) throw new QfError('BAD_INPUT', `Output folder ${outDir} exists and is not a folder; choose another --out.`);

  // readdir never descends through a link: each entry is seen as what it is.
  const entries = await readdir(outDir, { recursive: true, withFileTypes: true });
  const planted = entries
    .filter((entry) => !entry.isFile() && !entry.isDirectory())
    .map((entry) => path.relative(outDir, path.join(entry.parentPath, entry.name)))
    .sort();
  if (planted.length > 0) {
    throw new QfError(
      'BAD_INPUT',
      `Output folder ${outDir} holds ${planted.length} symbolic link(s), pipe(s) or device(s): ${list(planted)}. qf never follows a link it did not create; remove them or choose an empty folder for --out.`,
    );
  }
  if (options.resume) return;
  const foreign = entries
    .filter((entry) => entry.parentPath === outDir && !QF_ENTRIES.has(entry.name) && !TEMPORARY.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  if (foreign.length > 0) {
    throw new QfError(
      'BAD_INPUT',
      `Output folder ${outDir} holds files qf did not write (${list(foreign)}); a run starts from a folder of its own. Choose an empty or new folder for --out.`,
    );
  }
  await rm(outDir, { recursive: true }); // never follows a link; there are none
  await createOwnFolder(outDir, 'Output folder');
  await writeGitignore(outDir);
}

/** In a folder qf has just created; `wx` would refuse anything already there. */
async function writeGitignore(outDir: string): Promise<void> {
  await writeFile(path.join(outDir, EvidenceFile.gitignore), GITIGNORE, { flag: 'wx' });
}

/** mkdir that fails when anything (a link, a folder) is already there: the folder is ours. */
async function createOwnFolder(dir: string, what: string): Promise<void> {
  await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new QfError(
      'BAD_INPUT',
      `${what} ${dir} could not be created: ${error.code === 'EEXIST' ? 'something appeared there while qf was preparing it' : error.message}.`,
      { cause: error },
    );
  });
}

/**
 * A fresh, empty folder at `outDir/parts…`, created by qf for this step or attempt: whatever an
 * earlier attempt left there is removed (rm never follows a link), and every folder on the way is
 * checked to be a real folder, not a link into the host.
 */
export async function createFreshFolder(outDir: string, ...parts: string[]): Promise<string> {
  let dir = outDir;
  for (const [index, part] of parts.entries()) {
    if (part === '' || part === '.' || part === '..' || part.includes('/') || part.includes(path.sep))
      throw new QfError('BAD_INPUT', `"${part}" is not a folder name.`);
    dir = path.join(dir, part);
    if (index === parts.length - 1) {
      await rm(dir, { recursive: true, force: true });
      await createOwnFolder(dir, 'Step folder');
    } else {
      await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      const info = await lstat(dir);
      if (!info.isDirectory())
        throw new QfError('BAD_INPUT', `${dir} is not a real folder (a link or a file was put there); qf never follows a link it did not create.`);
    }
  }
  return dir;
}

/**
 * Writes a file whole or not at all, without following a link: the content goes to a new
 * temporary file (O_EXCL | O_NOFOLLOW: never an existing file, never through a link) that is then
 * renamed over `file`, which replaces whatever name was there (a planted link included) instead of
 * writing through it. A reader never sees half a file.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, content, { flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode: 0o644 });
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
