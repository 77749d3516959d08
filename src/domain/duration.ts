import { SmlError } from '../errors.js';

/**
 * SLURM durations. SLURM accepts `minutes`, `minutes:seconds`, `hours:minutes:seconds`,
 * `days-hours`, `days-hours:minutes` and `days-hours:minutes:seconds`; we parse all of them to
 * seconds and print `HH:MM:SS` (or `D-HH:MM:SS` from one day on), which every SLURM accepts.
 */

export const DURATION_FORMS =
  'HH:MM:SS, D-HH:MM:SS, D-HH, D-HH:MM, MM:SS or plain minutes (e.g. 02:00:00, 1-12:00:00, 90)';

const WITH_DAYS = /^(\d+)-(\d+)(?::(\d+))?(?::(\d+))?$/;
const WITHOUT_DAYS = /^(\d+)(?::(\d+))?(?::(\d+))?$/;

function invalidDuration(value: string, field: string, why: string): SmlError {
  return new SmlError('INVALID_ARGUMENT', `${field} '${value}' is not a valid duration: ${why}.`, {
    hint: `Use ${DURATION_FORMS}.`,
    details: { field, value },
  });
}

/** Parse a SLURM duration to whole seconds; `field` names the input in the error message. */
export function parseDuration(value: string, field = 'time'): number {
  const text = value.trim();
  let days = 0;
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  const withDays = WITH_DAYS.exec(text);
  const withoutDays = withDays ? null : WITHOUT_DAYS.exec(text);
  if (withDays) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    days = Number(withDays[1]);
    hours = Number(withDays[2]);
    minutes = Number(withDays[3] ?? 0);
    seconds = Number(withDays[4] ?? 0);
  } else if (withoutDays) {
    const parts = [withoutDays[1], withoutDays[2], withoutDays[3]].filter((p) => p !== undefined);
    if (parts.length === 1) minutes = Number(parts[0]);
    else if (parts.length === 2) [minutes, seconds] = parts.map(Number) as [number, number];
    else [hours, minutes, seconds] = parts.map(Number) as [number, number, number];
    if (parts.length === 3 && minutes > 59) throw invalidDuration(value, field, 'minutes must be 00-59');
  } else {
    throw invalidDuration(value, field, 'unrecognised format');
  }
  if (withDays && hours > 23) throw invalidDuration(value, field, 'hours must be 00-23 after a day count');
  if (withDays && minutes > 59) throw invalidDuration(value, field, 'minutes must be 00-59');
  if (seconds > 59) throw invalidDuration(value, field, 'seconds must be 00-59');
  const total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  if (total <= 0) throw invalidDuration(value, field, 'it must be longer than zero');
  return total;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Seconds as SLURM prints and accepts them: `HH:MM:SS`, or `D-HH:MM:SS` from one day on. */
export function formatDuration(totalSeconds: number): string {
  const whole = Math.max(0, Math.ceil(totalSeconds));
  const days = Math.floor(whole / 86_400);
  const hours = Math.floor((whole % 86_400) / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const seconds = whole % 60;
  const clock = `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  return days > 0 ? `${days}-${clock}` : clock;
}

/** A short human form for messages: `9h`, `1h30m`, `15m`, `45s`. */
export function describeDuration(totalSeconds: number): string {
  const whole = Math.max(0, Math.round(totalSeconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const seconds = whole % 60;
  const parts = [
    hours ? `${hours}h` : '',
    minutes ? `${minutes}m` : '',
    seconds && !hours ? `${seconds}s` : '',
  ];
  return parts.join('') || '0s';
}
