import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
} from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { metricsUri } from '../../resources/uris.js';
import { hasLiveEngines } from '../../src/jobs/live-figures.js';
import type { JobStatusView, LogChunkView, MetricsSnapshotView } from '../../src/jobs/types.js';
import { LiveState } from './state.js';
import { renderView, type ViewActions } from './view.js';

/**
 * The sml-mcp live view: an MCP App the host shows next to a `status` or `launch` result. Every
 * figure comes from the server through the host (tools/call, resources/read); the app itself has
 * no network access. It refreshes every few seconds while it is visible.
 */
const REFRESH_MS = 4000;

const state = new LiveState();
const root = document.getElementById('app')!;
const app = new App({ name: 'sml-mcp live view', version: '1.0.0' }, {}, { autoResize: true });
let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<void> | undefined;
let isTornDown = false;

const actions: ViewActions = {
  select(jobId) {
    state.select(jobId);
    draw();
    void refreshAgain();
  },
  refresh: () => void refresh(),
  cancel: (jobId) => void cancel(jobId, false),
  confirmCancel: (jobId) => void cancel(jobId, true),
  dismissCancel() {
    state.pendingCancel = undefined;
    draw();
  },
  toggleEnded() {
    state.isShowingAllEnded = !state.isShowingAllEnded;
    draw();
  },
  pickLogFile(file) {
    const job = state.selectedJob();
    if (!job) return;
    void readLog(job, file).then(draw);
  },
};

function draw(): void {
  renderView(root, state, actions);
}

/** A tool call through the host; an error result becomes an Error carrying the server's text. */
async function callTool<T>(name: string, args: Record<string, unknown>): Promise<T> {
  const result: CallToolResult = await app.callServerTool({ name, arguments: args });
  if (result.isError) throw new Error(textOf(result));
  return result.structuredContent as T;
}

function textOf(result: CallToolResult): string {
  return result.content.flatMap((item) => (item.type === 'text' ? [item.text] : [])).join('\n');
}

async function readLog(job: JobStatusView, file?: string): Promise<void> {
  const args = state.nextLogRead(job.job_id, file);
  try {
    state.addLogChunk(await callTool<LogChunkView & { files: string[] }>('logs', args));
  } catch (error) {
    if (state.log) state.log.error = messageOf(error);
  }
}

async function readMetrics(job: JobStatusView): Promise<void> {
  const result = await app.readServerResource({ uri: metricsUri(job.job_id) });
  const content = result.contents[0];
  if (content && 'text' in content) state.addSnapshot(JSON.parse(content.text) as MetricsSnapshotView);
}

/** One round: every job's status, then the selected job's metrics and new log lines. */
function refresh(): Promise<void> {
  refreshing ??= (async () => {
    clearTimeout(timer);
    try {
      const { jobs } = await callTool<{ jobs: JobStatusView[] }>('status', {});
      state.setJobs(jobs);
      const job = state.selectedJob();
      if (job) await Promise.all([hasLiveEngines(job) ? readMetrics(job) : undefined, readLog(job)]);
      state.error = undefined;
    } catch (error) {
      state.error = messageOf(error);
    } finally {
      refreshing = undefined;
      draw();
      scheduleRefresh();
    }
  })();
  return refreshing;
}

/** A refresh that starts after the one in flight: that one asked before the change the person just made. */
async function refreshAgain(): Promise<void> {
  await refreshing;
  await refresh();
}

function scheduleRefresh(): void {
  clearTimeout(timer);
  if (!isTornDown && document.visibilityState !== 'hidden')
    timer = setTimeout(() => void refresh(), REFRESH_MS);
}

/**
 * Cancel goes through the server's own rules: the host may ask the person (elicitation); a host
 * that cannot gets CONFIRMATION_REQUIRED, and the app asks with the server's words before it
 * calls again with confirm: true.
 */
async function cancel(jobId: string, isConfirmed: boolean): Promise<void> {
  state.select(jobId);
  state.pendingCancel = undefined;
  state.notice = `Cancelling job ${jobId}…`;
  draw();
  try {
    const result = await callTool<{
      outcome: string;
      summary: string;
      results: { job_id: string; cancelled: boolean }[];
    }>('cancel', isConfirmed ? { job_id: jobId, confirm: true } : { job_id: jobId });
    state.notice =
      result.outcome === 'declined'
        ? 'Not cancelled: the deployment keeps running.'
        : `Cancelled ${
            result.results
              .filter((r) => r.cancelled)
              .map((r) => `job ${r.job_id}`)
              .join(', ') || result.summary
          }.`;
  } catch (error) {
    const text = messageOf(error);
    if (!isConfirmed && text.startsWith('[CONFIRMATION_REQUIRED]')) {
      state.notice = undefined;
      state.pendingCancel = { jobId, question: confirmationQuestion(text) };
    } else state.notice = `Cancel failed: ${text}`;
  }
  await refreshAgain();
}

/** "[CONFIRMATION_REQUIRED] Cancelling needs confirmation: Cancel job 12 serving …?. Ask …" → the server's question. */
function confirmationQuestion(text: string): string {
  const question = /confirmation: (.+?\?)/.exec(text)?.[1] ?? 'Cancel this deployment?';
  return `${question} It stops serving at once.`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function applyHostContext(context: McpUiHostContext | undefined): void {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
}

// The result of the call that opened the view: a status list to draw at once, or a launch to select.
app.ontoolresult = (result) => {
  const data = result.structuredContent as { jobs?: JobStatusView[]; job_ids?: string[] } | undefined;
  if (data?.jobs) state.setJobs(data.jobs);
  const chosen = data?.job_ids?.[0] ?? (data?.jobs?.length === 1 ? data.jobs[0]?.job_id : undefined);
  if (chosen) state.select(chosen);
  draw();
  void refresh();
};
app.onhostcontextchanged = (context) => applyHostContext(context);
app.onteardown = async () => {
  isTornDown = true;
  clearTimeout(timer);
  return {};
};
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void refresh();
  else clearTimeout(timer);
});

async function start(): Promise<void> {
  draw();
  try {
    await app.connect();
  } catch (error) {
    state.error = `Could not connect to the host: ${messageOf(error)}`;
    draw();
    return;
  }
  applyHostContext(app.getHostContext());
  await refresh();
}

void start();
