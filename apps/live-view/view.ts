import {
  chainPosition,
  type DeploymentFigures,
  formatPercent,
  formatTimeLeft,
  hasLiveEngines,
} from '../../src/jobs/live-figures.js';
import type { JobStatusView } from '../../src/jobs/types.js';
import { lineChart } from './chart.js';
import { ENDED_JOBS_SHOWN, type LiveState } from './state.js';

/**
 * Draw the live view from its state. The table and the job panel are rebuilt on every refresh;
 * the log keeps its element (and scroll position) and only grows.
 */
export interface ViewActions {
  select(jobId: string): void;
  refresh(): void;
  cancel(jobId: string): void;
  confirmCancel(jobId: string): void;
  dismissCancel(): void;
  pickLogFile(file: string): void;
  toggleEnded(): void;
}

type Child = Node | string | null | undefined | false;

/** A job found by sml-mcp's SLURM tag but launched from another machine or config: no spec here. */
const NO_RECORD = '(recorded elsewhere)';

/** createElement with attributes and children; text always goes in as text, never as HTML. */
function el(tag: string, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

export function renderView(root: HTMLElement, state: LiveState, actions: ViewActions): void {
  const header = root.querySelector<HTMLElement>('#header')!;
  header.replaceChildren(...renderHeader(state, actions));
  // Rows are rebuilt on each refresh: a row that had the keyboard focus gets it back.
  const focusedJobId = (document.activeElement as HTMLElement | null)?.dataset.jobId;
  root.querySelector<HTMLElement>('#jobs')!.replaceChildren(renderJobs(state, actions));
  if (focusedJobId) root.querySelector<HTMLElement>(`tr[data-job-id="${CSS.escape(focusedJobId)}"]`)?.focus();
  const job = state.selectedJob();
  root
    .querySelector<HTMLElement>('#detail')!
    .replaceChildren(...(job ? renderDetail(job, state, actions) : []));
  renderLog(root.querySelector<HTMLElement>('#log')!, job, state, actions);
}

function renderHeader(state: LiveState, actions: ViewActions): (Node | string)[] {
  const refresh = el('button', { type: 'button', class: 'ghost', title: 'Refresh now' }, '⟳ Refresh');
  refresh.addEventListener('click', () => actions.refresh());
  const updated = state.updatedAt ? `updated ${state.updatedAt.toLocaleTimeString()}` : 'loading…';
  const nodes: HTMLElement[] = [
    el('h1', {}, 'SLURM deployments'),
    el('span', { class: 'muted', 'data-field': 'updated' }, updated),
    refresh,
  ];
  if (state.error)
    nodes.push(el('p', { class: 'error', role: 'alert' }, `Last refresh failed: ${state.error}`));
  if (state.notice) nodes.push(el('p', { class: 'notice', role: 'status' }, state.notice));
  return nodes;
}

function renderJobs(state: LiveState, actions: ViewActions): Node {
  if (state.jobs.length === 0)
    return el(
      'p',
      { class: 'muted' },
      state.updatedAt ? 'No sml-mcp jobs. Launch one with the launch tool.' : '',
    );
  const head = el(
    'tr',
    {},
    ...['Job', 'Model', 'Phase', 'Replicas', 'Endpoint', 'Left', 'Chain'].map((title) => el('th', {}, title)),
  );
  const { jobs, hiddenEnded } = state.listedJobs();
  const rows = jobs.map((job) => {
    const endpoint = job.endpoints.find((e) => e.kind === 'router') ?? job.endpoints[0];
    const row = el(
      'tr',
      {
        'data-job-id': job.job_id,
        tabindex: '0',
        class: job.job_id === state.selectedJobId ? 'selected' : '',
        'aria-selected': String(job.job_id === state.selectedJobId),
      },
      el('td', { 'data-field': 'job_id' }, job.job_id),
      el('td', { 'data-field': 'model', class: 'model' }, job.served_model_name || NO_RECORD),
      el('td', { 'data-field': 'phase' }, phaseBadge(job)),
      el('td', { 'data-field': 'replicas' }, replicasText(job)),
      el('td', { 'data-field': 'endpoint', class: 'mono' }, endpoint?.url ?? ''),
      el('td', { 'data-field': 'time_left' }, formatTimeLeft(job.time_left_s)),
      el('td', { 'data-field': 'chain' }, chainPosition(job)),
    );
    row.addEventListener('click', () => actions.select(job.job_id));
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') actions.select(job.job_id);
    });
    return row;
  });
  const table = el('table', { class: 'jobs' }, el('thead', {}, head), el('tbody', {}, ...rows));
  if (state.jobs.filter((job) => job.phase === 'ended').length <= ENDED_JOBS_SHOWN) return table;
  const toggle = el(
    'button',
    { type: 'button', class: 'ghost', 'data-action': 'toggle-ended' },
    state.isShowingAllEnded ? 'Show fewer ended jobs' : `Show ${hiddenEnded} more ended jobs`,
  );
  toggle.addEventListener('click', () => actions.toggleEnded());
  const fragment = document.createDocumentFragment();
  fragment.append(table, toggle);
  return fragment;
}

function phaseBadge(job: JobStatusView): HTMLElement {
  const text = job.phase === 'ended' ? `ended (${job.end_reason ?? 'unknown'})` : job.phase;
  return el('span', { class: `phase ${job.phase}`, title: `SLURM ${job.slurm_state}` }, text);
}

function replicasText(job: JobStatusView): string {
  if (job.replicas_expected === 0 || job.phase === 'queued' || job.phase === 'ended') return '';
  return `${job.replicas_healthy}/${job.replicas_expected} healthy`;
}

function renderDetail(job: JobStatusView, state: LiveState, actions: ViewActions): Node[] {
  const title = el(
    'h2',
    {},
    `Job ${job.job_id}`,
    job.served_model_name ? ` · ${job.served_model_name}` : '',
    ' · ',
    phaseBadge(job),
  );
  const nodes: Node[] = [el('div', { class: 'detail-head' }, title, renderCancel(job, state, actions))];
  const facts: Child[] = [
    fact('SLURM', `${job.slurm_state}${job.slurm_reason ? ` (${job.slurm_reason})` : ''} on ${job.system}`),
    job.nodes.length > 0 ? fact('Nodes', job.nodes.join(', ')) : null,
    job.time_left_s !== null ? fact('Time left', formatTimeLeft(job.time_left_s)) : null,
    ...job.endpoints.map((e) =>
      fact(e.kind === 'replica' ? `Replica ${e.replica ?? 0}` : capitalize(e.kind), e.url, 'mono'),
    ),
  ];
  nodes.push(el('dl', { class: 'facts' }, ...facts));
  // An ended job's last health report says nothing about now.
  if (job.replica_health.length > 0 && job.phase !== 'ended') nodes.push(renderReplicas(job));
  if (job.chain_length > 1) nodes.push(renderChain(state.chainOf(job), job));
  if (job.failure_hint)
    nodes.push(
      el(
        'p',
        { class: 'error' },
        `Likely cause: ${job.failure_hint.cause} Fix: ${job.failure_hint.fix} (${job.failure_hint.file})`,
      ),
    );
  nodes.push(renderCharts(job, state));
  return nodes;
}

function renderCancel(job: JobStatusView, state: LiveState, actions: ViewActions): Node {
  if (job.phase === 'ended' || !job.is_recorded_locally) return el('span');
  const pending = state.pendingCancel?.jobId === job.job_id ? state.pendingCancel : undefined;
  if (pending) {
    const yes = el('button', { type: 'button', class: 'danger', 'data-action': 'confirm-cancel' }, 'Stop it');
    const no = el('button', { type: 'button', class: 'ghost', 'data-action': 'keep' }, 'Keep running');
    yes.addEventListener('click', () => actions.confirmCancel(job.job_id));
    no.addEventListener('click', () => actions.dismissCancel());
    return el('div', { class: 'confirm', role: 'alertdialog' }, el('span', {}, pending.question), yes, no);
  }
  const button = el('button', { type: 'button', class: 'danger', 'data-action': 'cancel' }, 'Cancel job');
  button.addEventListener('click', () => actions.cancel(job.job_id));
  return button;
}

function renderReplicas(job: JobStatusView): Node {
  return el(
    'ul',
    { class: 'replicas' },
    ...job.replica_health.map((r) =>
      el(
        'li',
        { 'data-replica': String(r.replica), class: r.health === 'HEALTHY' ? 'ok' : 'bad' },
        `replica ${r.replica}: ${r.health.toLowerCase().replace('_', ' ')}`,
        r.node_host ? ` on ${r.node_host}` : '',
        r.node_ip ? ` (${r.node_ip}:${r.port})` : '',
      ),
    ),
  );
}

function renderChain(chain: JobStatusView[], current: JobStatusView): Node {
  const items = chain.map((member) => {
    const when =
      member.phase === 'ended'
        ? `ended ${localTime(member.ended_at)}`
        : member.phase === 'queued'
          ? `queued${member.time_limit_s ? `, runs up to ${formatTimeLeft(member.time_limit_s)}` : ''}`
          : `${member.phase} since ${localTime(member.started_at)}, ${formatTimeLeft(member.time_left_s)} left`;
    return el(
      'li',
      { class: member.job_id === current.job_id ? 'current' : '' },
      `job ${member.job_id}: ${when}`,
    );
  });
  return el(
    'div',
    { class: 'chain' },
    el('h3', {}, `Chain of ${current.chain_length} jobs`),
    el('ol', {}, ...items),
  );
}

/** A SLURM time in the viewer's locale; as given when it does not parse. */
function localTime(value: string | null): string {
  if (!value) return '?';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

function renderCharts(job: JobStatusView, state: LiveState): Node {
  const history = state.historyOf(job.job_id);
  if (!hasLiveEngines(job) && history.length === 0)
    return el(
      'p',
      { class: 'muted' },
      job.phase === 'ended'
        ? 'No engine figures were collected.'
        : 'Engine charts appear once the job serves.',
    );
  const pick = (key: keyof DeploymentFigures) => history.map((figures) => figures[key]);
  const fixed = (digits: number) => (value: number) => value.toFixed(digits);
  const seconds = (value: number) => (value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`);
  const charts = el(
    'div',
    { class: 'charts' },
    lineChart({
      id: 'tokens_per_s',
      title: 'Tokens/s',
      series: [{ name: 'generated', values: pick('tokens_per_s'), color: 'var(--chart-1)' }],
      format: fixed(1),
    }),
    lineChart({
      id: 'requests',
      title: 'Requests',
      series: [
        { name: 'running', values: pick('requests_running'), color: 'var(--chart-1)' },
        { name: 'queued', values: pick('requests_queued'), color: 'var(--chart-2)' },
      ],
      format: fixed(0),
    }),
    lineChart({
      id: 'kv_cache',
      title: 'KV cache',
      series: [{ name: 'used', values: pick('kv_cache_usage'), color: 'var(--chart-1)' }],
      format: formatPercent,
      max: 1,
    }),
    lineChart({
      id: 'ttft',
      title: 'TTFT',
      series: [
        { name: 'p50', values: pick('ttft_p50_s'), color: 'var(--chart-1)' },
        { name: 'p99', values: pick('ttft_p99_s'), color: 'var(--chart-2)' },
      ],
      format: seconds,
    }),
  );
  if (job.phase !== 'ended') return charts;
  const fragment = document.createDocumentFragment();
  fragment.append(el('p', { class: 'muted' }, 'The last figures before the job ended:'), charts);
  return fragment;
}

function renderLog(
  section: HTMLElement,
  job: JobStatusView | undefined,
  state: LiveState,
  actions: ViewActions,
): void {
  section.hidden = !job;
  if (!job) return;
  const log = state.log?.jobId === job.job_id ? state.log : undefined;
  const picker = section.querySelector<HTMLSelectElement>('select')!;
  const files = log?.files.length ? log.files : [log?.file ?? 'log.out'];
  if ([...picker.options].map((o) => o.value).join('\n') !== files.join('\n'))
    picker.replaceChildren(...files.map((file) => el('option', { value: file }, file)));
  picker.value = log?.file ?? files[0]!;
  picker.onchange = () => actions.pickLogFile(picker.value);
  const status = section.querySelector<HTMLElement>('.log-status')!;
  status.textContent = log?.error
    ? `Could not read the log: ${log.error}`
    : log?.isMissing
      ? 'Not written yet: its process has not started.'
      : '';
  const pre = section.querySelector<HTMLPreElement>('pre')!;
  const text = log?.text ?? '';
  if (pre.textContent !== text) {
    const follow = section.querySelector<HTMLInputElement>('input[name=follow]')!;
    pre.textContent = text;
    if (follow.checked) pre.scrollTop = pre.scrollHeight;
  }
}

function fact(term: string, value: string, valueClass = ''): Node {
  const fragment = document.createDocumentFragment();
  fragment.append(el('dt', {}, term), el('dd', valueClass ? { class: valueClass } : {}, value));
  return fragment;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
