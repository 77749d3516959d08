import { formatDuration } from '../../domain/duration.js';
import { SmlError } from '../../errors.js';
import { expandHostlist } from '../hostlist.js';
import { ENDED_STATES, type JobInfo, parseSlurmState } from '../scheduler.js';
import type { JobEntry } from './schemas.js';

/**
 * FirecREST v2 job objects carry no `comment`, only `name`, so the submission tag travels in the
 * job name as `<name>~<tag>`; reading a job splits it back into `name` and `comment`.
 */
export const TAG_SEPARATOR = '~';
const MAX_JOB_NAME = 235;
const DIRECTIVE = /^#SBATCH\s+(.*)$/;

/** The job name sent to FirecREST for a script whose own name is `baseName`. */
export function taggedJobName(baseName: string | undefined, tag: string): string {
  if (tag.length === 0 || tag.length > MAX_JOB_NAME - 4 || /[\s\n]/.test(tag)) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `The submission tag '${tag}' cannot be carried in a FirecREST job name.`,
      {
        hint: `Use a tag of 1 to ${MAX_JOB_NAME - 4} characters without whitespace.`,
      },
    );
  }
  const base = (baseName ?? 'sml').replaceAll(TAG_SEPARATOR, '_').replace(/\s+/g, '_') || 'sml';
  return `${base.slice(0, MAX_JOB_NAME - tag.length - 1)}${TAG_SEPARATOR}${tag}`;
}

/** Split a FirecREST job name into the script's name and the submission tag. */
export function splitJobName(name: string): { name: string; comment?: string } {
  const at = name.indexOf(TAG_SEPARATOR);
  return at < 0 ? { name } : { name: name.slice(0, at), comment: name.slice(at + 1) };
}

/** Values of `#SBATCH` directives in the script's header (before its first command). */
function* directives(script: string): Generator<string> {
  for (const line of script.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || (trimmed.startsWith('#') && !trimmed.startsWith('#SBATCH'))) continue;
    const match = DIRECTIVE.exec(trimmed);
    if (!match) return;
    yield match[1]!.trim();
  }
}

/** The `--job-name` / `-J` a batch script declares, if any. */
export function scriptJobName(script: string): string | undefined {
  for (const directive of directives(script)) {
    const match = /^(?:--job-name(?:=|\s+)|-J\s*)(?:"([^"]*)"|'([^']*)'|(\S+))/.exec(directive);
    if (match) return match[1] ?? match[2] ?? match[3];
  }
  return undefined;
}

/**
 * The script with `#SBATCH --comment=<tag>` after its shebang, so `squeue`/`sacct` on the cluster
 * show the tag as the SLURM CLI backend does. Left alone when it declares a comment already or the
 * tag would need quoting.
 */
export function withCommentDirective(script: string, tag: string): string {
  for (const directive of directives(script)) if (directive.startsWith('--comment')) return script;
  if (!/^[A-Za-z0-9_.:@/+=,-]+$/.test(tag)) return script;
  const line = `#SBATCH --comment=${tag}`;
  if (script.startsWith('#!')) {
    const newline = script.indexOf('\n');
    return newline < 0
      ? `${script}\n${line}\n`
      : `${script.slice(0, newline + 1)}${line}\n${script.slice(newline + 1)}`;
  }
  return `${line}\n${script}`;
}

function epochToIso(value: number | null | undefined): string | undefined {
  return typeof value === 'number' && value > 0 ? new Date(value * 1000).toISOString() : undefined;
}

/**
 * SLURM's accounting row for a job that has not started: named `allocation`, no working directory.
 * FirecREST lets it win over squeue's row for a moment after the job starts; it says nothing about
 * the job (not even its tag), so it is read as "not listed yet", like a 404 right after a submit.
 */
export function isAccountingPlaceholder(job: JobEntry): boolean {
  return job.name === 'allocation' && !job.workingDirectory && job.status.state.trim() === 'PENDING';
}

/** A FirecREST job object as the backend-neutral JobInfo. */
export function toJobInfo(job: JobEntry): JobInfo {
  const rawState = job.status.state.trim();
  const state = parseSlurmState(rawState);
  const { name, comment } = job.name ? splitJobName(job.name) : { name: undefined, comment: undefined };
  const reason = job.status.stateReason;
  const nodes = job.nodes && job.nodes !== 'None assigned' ? expandHostlist(job.nodes) : [];
  const { exitCode, interruptSignal } = job.status;
  const info: JobInfo = { jobId: job.jobId, state, rawState };
  if (reason && reason !== 'None') info.reason = reason;
  if (name) info.name = name;
  if (comment) info.comment = comment;
  if (job.user) info.user = job.user;
  if (job.account) info.account = job.account;
  if (job.partition) info.partition = job.partition;
  const startTime = epochToIso(job.time?.start);
  if (startTime) info.startTime = startTime;
  const endTime = epochToIso(job.time?.end);
  if (endTime) info.endTime = endTime;
  if (typeof job.time?.limit === 'number' && job.time.limit > 0)
    info.timeLimit = formatDuration(job.time.limit);
  if (nodes.length > 0) info.nodes = nodes;
  if (typeof exitCode === 'number' && ENDED_STATES.has(state))
    info.exitCode = `${exitCode}:${interruptSignal ?? 0}`;
  return info;
}
