/**
 * The launch lifecycle on the real local cluster, written once and run through every backend
 * (SLURM CLI locally, over SSH, through FirecREST): launch → status → serving → chat → logs → cancel.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobStatusView } from '../../src/jobs/types.js';
import type { Scheduler } from '../../src/scheduler/scheduler.js';
import { chat, createTestJobs, type TestJobs } from '../helpers/jobs.js';

export interface LifecycleSuiteOptions {
  /** Builds the scheduler under test (called in beforeAll, after the cluster check). */
  makeScheduler(): Promise<Scheduler>;
  /** Which cases to run: the SLURM CLI backend runs them all; others run a subset. */
  cases: ReadonlySet<'single' | 'router' | 'vllm' | 'packed' | 'chain' | 'failures'>;
}

const SERVING_TIMEOUT_S = 150;

export function defineLifecycleTests(options: LifecycleSuiteOptions): void {
  let jobs: TestJobs;
  const launched: string[] = [];

  beforeAll(async () => {
    jobs = await createTestJobs(await options.makeScheduler());
  });

  afterAll(async () => {
    // Never leave jobs behind on the shared cluster.
    for (const id of launched) await jobs?.scheduler.cancel(id).catch(() => undefined);
  });

  async function launch(request: Record<string, unknown>) {
    const result = await jobs.service.launch({
      system: 'local',
      disable_opentela: true,
      time: '00:10:00',
      ...request,
    });
    launched.push(...result.job_ids);
    return result;
  }

  async function waitServing(jobId: string): Promise<JobStatusView> {
    const wait = await jobs.service.waitFor([jobId], 'serving', { timeoutS: SERVING_TIMEOUT_S });
    const status = wait.statuses[0]!;
    expect(status.failure_hint, JSON.stringify(status.failure_hint)).toBeNull();
    expect(wait.reached, `job ${jobId} reached ${status.phase}`).toBe(true);
    return status;
  }

  if (options.cases.has('single')) {
    it('sglang, one replica: queued/starting → serving, answers, logs, cancel twice', async () => {
      const phases = new Set<string>();
      const result = await launch({ model: 'swiss-ai/Apertus-8B-Instruct-2509', framework: 'sglang' });
      expect(result.job_ids).toHaveLength(1);
      expect(result.served_model_name).toBe('root/swiss-ai/Apertus-8B-Instruct-2509');
      const jobId = result.job_ids[0]!;
      const wait = await jobs.service.waitFor([jobId], 'serving', {
        timeoutS: SERVING_TIMEOUT_S,
        onProgress: (p) => void phases.add(p.statuses[0]!.phase),
      });
      expect(wait.reached).toBe(true);
      expect([...phases].some((p) => p === 'queued' || p === 'starting')).toBe(true);
      const status = wait.statuses[0]!;
      expect(status.phase).toBe('serving');
      expect(status.nodes).toHaveLength(1);
      const endpoint = status.endpoints.find((e) => e.kind === 'replica')!;
      expect(endpoint.url).toMatch(/^http:\/\/10\.77\.0\.1[1-4]:8080\/v1$/);

      const answer = await chat(endpoint.url, result.served_model_name);
      expect(answer.status).toBe(200);
      expect(answer.body.model).toBe(result.served_model_name);
      expect(answer.body.choices[0]!.message.content.length).toBeGreaterThan(0);

      // The metrics snapshot reads the engine's own Prometheus figures, moved by that completion.
      const metrics = await jobs.service.metrics(jobId);
      expect(metrics.replicas).toHaveLength(1);
      expect(metrics.replicas[0]).toMatchObject({ reachable: true, error: null, requests_queued: 0 });
      expect(metrics.replicas[0]!.prompt_tokens_total).toBeGreaterThan(0);
      expect(metrics.replicas[0]!.generation_tokens_total).toBeGreaterThan(0);
      expect(metrics.replicas[0]!.ttft_seconds.p50).not.toBeNull();
      expect(metrics.replica_health[0]).toMatchObject({ health: 'HEALTHY' });

      const files = await jobs.service.listLogFiles(jobId);
      expect(files).toContain('replica_0.err');
      const engineLog = [
        (await jobs.service.readLog(jobId, 'replica_0.out')).text,
        (await jobs.service.readLog(jobId, 'replica_0.err')).text,
      ].join('');
      expect(engineLog).toContain('The server is fired up and ready to roll!');
      const first = await jobs.service.readLog(jobId, 'log.out');
      expect(first.is_missing).toBe(false);
      const again = await jobs.service.readLog(jobId, 'log.out', { cursor: first.next_cursor });
      expect(again.next_cursor).toBeGreaterThanOrEqual(first.next_cursor);

      const cancelled = await jobs.service.cancel(jobId);
      expect(cancelled).toEqual([expect.objectContaining({ job_id: jobId, cancelled: true })]);
      const ended = await jobs.service.waitFor([jobId], 'ended', { timeoutS: 30 });
      expect(ended.reached).toBe(true);
      expect(ended.statuses[0]).toMatchObject({ phase: 'ended', end_reason: 'cancelled' });
      const second = await jobs.service.cancel(jobId);
      expect(second).toEqual([
        expect.objectContaining({ job_id: jobId, cancelled: false, already_ended: true }),
      ]);
    });
  }

  if (options.cases.has('router')) {
    it('sglang, 2 replicas × 2 nodes behind the sglang router: four nodes, router answers, both healthy', async () => {
      const result = await launch({
        model_path: '/opt/sml-local/models/swiss-ai/Apertus-70B-Instruct-2509',
        served_model_name: 'swiss-ai/Apertus-70B',
        framework: 'sglang',
        replicas: 2,
        nodes_per_replica: 2,
        router: 'sglang',
      });
      const status = await waitServing(result.job_ids[0]!);
      expect(new Set(status.nodes).size).toBe(4);
      expect(status.replica_health.map((r) => r.health)).toEqual(['HEALTHY', 'HEALTHY']);
      expect(new Set(status.replica_health.map((r) => r.node_ip)).size).toBe(2);
      const router = status.endpoints.find((e) => e.kind === 'router')!;
      expect(router.url).toMatch(/:30000\/v1$/);
      const answer = await chat(router.url, result.served_model_name);
      expect(answer.status).toBe(200);
      await jobs.service.cancel(result.job_ids[0]!);
    });
  }

  if (options.cases.has('vllm')) {
    it('vLLM, one replica serving', async () => {
      const result = await launch({ model: 'swiss-ai/Apertus-8B-Instruct-2509', framework: 'vllm' });
      const status = await waitServing(result.job_ids[0]!);
      const answer = await chat(status.endpoints[0]!.url, result.served_model_name);
      expect(answer.status).toBe(200);
      await jobs.service.cancel(result.job_ids[0]!);
    });
  }

  if (options.cases.has('packed')) {
    it('vLLM, 2 packed replicas with 2 GPUs each on one node, two ports, both serving', async () => {
      const result = await launch({
        model_path: '/opt/sml-local/models/test/tiny-llm',
        served_model_name: 'test/tiny-llm',
        framework: 'vllm',
        replicas: 2,
        gpus_per_replica: 2,
      });
      const status = await waitServing(result.job_ids[0]!);
      expect(status.nodes).toHaveLength(1);
      const replicas = status.endpoints.filter((e) => e.kind === 'replica');
      expect(replicas.map((e) => new URL(e.url).port).sort()).toEqual(['8080', '8081']);
      for (const endpoint of replicas)
        expect((await chat(endpoint.url, result.served_model_name)).status).toBe(200);
      const logs =
        (await jobs.service.readLog(result.job_ids[0]!, 'replica_1.out')).text +
        (await jobs.service.readLog(result.job_ids[0]!, 'replica_1.err')).text;
      expect(logs).toMatch(/CUDA_VISIBLE_DEVICES=2,3/);
      await jobs.service.cancel(result.job_ids[0]!);
    });
  }

  if (options.cases.has('chain')) {
    it('a chain: the successor starts, becomes healthy and cancels its predecessor; same name and endpoint port', async () => {
      const result = await launch({
        model: 'swiss-ai/Apertus-8B-Instruct-2509',
        framework: 'sglang',
        time: '00:05:00',
        consecutive: true,
        max_job_time: '00:03:00',
        handover_time: '00:02:00',
      });
      expect(result.job_ids.length).toBeGreaterThanOrEqual(2);
      const [first, second] = result.job_ids as [string, string];
      const firstServing = await waitServing(first);
      const secondServing = await waitServing(second);
      expect(secondServing.served_model_name).toBe(firstServing.served_model_name);
      expect(new URL(secondServing.endpoints[0]!.url).port).toBe(
        new URL(firstServing.endpoints[0]!.url).port,
      );
      const predecessor = await jobs.service.waitFor([first], 'ended', { timeoutS: 90 });
      expect(predecessor.statuses[0]).toMatchObject({ phase: 'ended', end_reason: 'cancelled' });
      const checkerLog = await jobs.service.readLog(second, 'replica_health_checker.log');
      expect(checkerLog.text).toContain(`cancelling predecessor job ${first}`);
      await jobs.service.cancel(second);
    }, 420_000);
  }

  if (options.cases.has('failures')) {
    it('an engine out of GPU memory ends failed with a GPU-memory hint', async () => {
      const result = await launch({
        model: 'swiss-ai/Apertus-8B-Instruct-2509',
        framework: 'sglang',
        pre_launch_cmds: 'export SML_STANDIN_FAIL=oom',
      });
      const wait = await jobs.service.waitFor(result.job_ids, 'ended', { timeoutS: 90 });
      expect(wait.statuses[0]).toMatchObject({ phase: 'ended', end_reason: 'failed' });
      expect(wait.statuses[0]!.failure_hint).toMatchObject({ signature: 'gpu_oom' });
    });

    it.each(['vllm', 'sglang'])(
      'a missing model path gives a hint naming the path (%s)',
      async (framework) => {
        const result = await launch({
          model_path: '/opt/sml-local/models/nobody/no-such-model',
          served_model_name: 'nobody/no-such-model',
          framework,
        });
        const wait = await jobs.service.waitFor(result.job_ids, 'ended', { timeoutS: 90 });
        expect(wait.statuses[0]!.phase).toBe('ended');
        expect(wait.statuses[0]!.failure_hint?.signature).toBe('model_path_missing');
        expect(wait.statuses[0]!.failure_hint?.cause).toContain('/opt/sml-local/models/nobody/no-such-model');
      },
    );
  }
}
