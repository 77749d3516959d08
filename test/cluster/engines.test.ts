import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { quoteShell } from '../../src/shell.js';
import { CLUSTER_NODES, describeOnCluster, LOCAL_ROOT, runOnCluster, waitFor } from '../helpers/cluster.js';
import {
  cancel,
  JOB_TEST_TIMEOUT_MS,
  jobDir,
  jobNodes,
  localEnvExports,
  probe,
  QUEUE_WAIT_MS,
  submit,
  waitForEnd,
  waitForState,
} from './jobs.js';

const TINY_MODEL = `${LOCAL_ROOT}/models/test/tiny-llm`;
const SERVED = 'root/test/tiny-llm';
const submitted: string[] = [];

function prologue(dir: string): string[] {
  return [
    'set -euo pipefail',
    ...localEnvExports(),
    'export SML_STANDIN_STARTUP_S=1 SML_STANDIN_ACCESS_LOG=0',
    `export DIR=${quoteShell(dir)} MODEL=${quoteShell(TINY_MODEL)}`,
    'mapfile -t nodes < <(scontrol show hostnames "$SLURM_NODELIST")',
    `head_ip=$(srun --nodes=1 --ntasks=1 -w "\${nodes[0]}" hostname -i)`,
  ];
}

/** srun of one step on node INDEX of the job with its own log files. */
const step = (index: number, base: string) =>
  `srun --nodes=1 --ntasks=1 -w "\${nodes[${index}]}" --output="$DIR/${base}.out" --error="$DIR/${base}.err"`;

const addressOf = (node: string) => CLUSTER_NODES.find((candidate) => candidate.name === node)!.address;
const read = (dir: string, file: string) =>
  existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '';

async function startJob(dir: string, lines: string[], nodes: number, name: string): Promise<string> {
  const id = await submit(dir, lines.join('\n'), { nodes, exclusive: true, name });
  submitted.push(id);
  return id;
}

afterAll(async () => {
  for (const id of submitted) await cancel(id);
});

describeOnCluster('stand-in engines on the cluster', () => {
  it(
    'sglang on two nodes: the head waits for its follower, then serves chat, models and metrics',
    async () => {
      const dir = jobDir('sglang2');
      const engine = (rank: number) =>
        `python3 -m sglang.launch_server --model-path "$MODEL" --served-model-name ${SERVED} --host 0.0.0.0 --port 8080 --dist-init-addr "$head_ip:5757" --nnodes 2 --node-rank ${rank} --tp-size 8 --enable-metrics --trust-remote-code`;
      const id = await startJob(
        dir,
        [
          ...prologue(dir),
          // The head runs under the OpenTela stand-in, from a staged command file (as the renderer does).
          `echo "exec ${engine(0).replaceAll('"', '\\"')}" >"$DIR/head.sh"`,
          'case $(uname -m) in aarch64) arch=arm64 ;; *) arch=amd64 ;; esac',
          `${step(0, 'head')} "${LOCAL_ROOT}/opentelabin/prod/otela-$arch" start --bootstrap.addr /ip4/10.77.0.1/tcp/43905/p2p/QmLocalTestBootstrapPeer --service.name llm --service.port 8080 --label "slurm_job_id=$SLURM_JOB_ID" --label 'framework_args=--port 8080 --tp-size 8' --subprocess "bash $DIR/head.sh" &`,
          // The follower starts only when the test says so: the head must answer 503 until it joins.
          'while [ ! -e "$DIR/go" ]; do sleep 0.2; done',
          `${step(1, 'follower')} ${engine(1)} &`,
          'wait -n',
        ],
        2,
        'sml-harness-sglang2',
      );
      await waitForState(id, /^RUNNING$/, QUEUE_WAIT_MS);
      const [headNode, followerNode] = await jobNodes(id);
      expect(followerNode).toBeDefined();
      expect(followerNode).not.toBe(headNode);
      const base = `http://${addressOf(headNode!)}:8080`;

      const waiting = await waitFor(async () => (await probe(`${base}/health`)).status === 503, {
        timeoutMs: 60_000,
        what: 'the head to answer /health with 503 while its follower is missing',
      });
      expect(waiting).toBe(true);
      writeFileSync(join(dir, 'go'), '');
      await waitFor(async () => (await probe(`${base}/health`)).status === 200, {
        timeoutMs: 60_000,
        what: 'the head to become healthy once the follower joined',
      });

      const models = JSON.parse((await probe(`${base}/v1/models`)).body) as { data: { id: string }[] };
      expect(models.data.map((model) => model.id)).toEqual([SERVED]);

      const chat = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: SERVED, messages: [{ role: 'user', content: 'Say the word Hello.' }] }),
      });
      expect(chat.status).toBe(200);
      const answer = (await chat.json()) as { model: string; choices: { message: { content: string } }[] };
      expect(answer.model).toBe(SERVED);
      expect(answer.choices[0]!.message.content).toContain(`Hello from ${SERVED} on ${headNode}`);

      const metrics = (await probe(`${base}/metrics`)).body;
      expect(metrics).toContain(`sglang:num_running_reqs{model_name="${SERVED}"}`);
      const promptTokens = /^sglang:prompt_tokens_total\{[^}]*\} (\S+)$/m.exec(metrics)?.[1];
      expect(Number(promptTokens)).toBeGreaterThan(0);

      expect(read(dir, 'head.err')).toContain('The server is fired up and ready to roll!');
      expect(read(dir, 'head.err')).toMatch(/node rank 1 \(n\d/);
      expect(read(dir, 'follower.err')).toContain('joined the head');

      // OpenTela stand-in: labels recorded, /v1/self answers on the node (reached with srun --overlap).
      const record = JSON.parse(readFileSync(`/tmp/otela-${id}-${headNode}.json`, 'utf8')) as {
        id: string;
        labels: Record<string, string>;
        service: { name: string; port: string };
        argv: string[];
      };
      expect(record.labels).toMatchObject({ slurm_job_id: id, framework_args: '--port 8080 --tp-size 8' });
      expect(record.service).toEqual({ name: 'llm', port: '8080' });
      expect(record.argv).toEqual(['bash', join(dir, 'head.sh')]);
      const self = await runOnCluster('srun', [
        `--jobid=${id}`,
        '--overlap',
        '--nodes=1',
        '--ntasks=1',
        `--nodelist=${headNode}`,
        'curl',
        '-s',
        'http://127.0.0.1:8092/v1/self',
      ]);
      expect((JSON.parse(self.stdout) as { id: string }).id).toBe(record.id);

      await cancel(id);
      expect(await waitForEnd(id, 30_000)).toBe('CANCELLED');
      expect(read(dir, 'head.err')).toContain('Received sigterm');
    },
    JOB_TEST_TIMEOUT_MS,
  );

  it(
    'vLLM on two nodes through Ray: waits for the GPUs of the joined worker, then serves',
    async () => {
      const dir = jobDir('vllm-ray');
      const gpus = `python3 -c 'import ray; ray.init(); print(ray.available_resources().get("GPU", 0))'`;
      const id = await startJob(
        dir,
        [
          ...prologue(dir),
          `${step(0, 'head')} bash -c 'ray start --head --port=6379 --num-gpus=4 --block & exec vllm serve "$MODEL" --served-model-name ${SERVED} --distributed-executor-backend ray --tensor-parallel-size 8 --port 8080' &`,
          'while [ ! -e "$DIR/go" ]; do sleep 0.2; done',
          `${step(1, 'worker')} ray start --address="$head_ip:6379" --num-gpus=4 --block &`,
          // What SML's vLLM head script does: poll ray.available_resources() until the GPUs are there.
          `until python3 -c 'import ray, sys; ray.init(); sys.exit(0 if ray.available_resources().get("GPU", 0) >= 8 else 1)' 2>/dev/null; do sleep 0.5; done`,
          `srun --overlap --nodes=1 --ntasks=1 -w "\${nodes[0]}" ${gpus} >"$DIR/gpus.txt"`,
          'wait -n',
        ],
        2,
        'sml-harness-vllm-ray',
      );
      await waitForState(id, /^RUNNING$/, QUEUE_WAIT_MS);
      const [headNode] = await jobNodes(id);
      const base = `http://${addressOf(headNode!)}:8080`;
      await waitFor(async () => (await probe(`${base}/health`)).status === 503, {
        timeoutMs: 60_000,
        what: 'vLLM to answer 503 while Ray has only the head GPUs',
      });
      writeFileSync(join(dir, 'go'), '');
      await waitFor(async () => (await probe(`${base}/health`)).status === 200, {
        timeoutMs: 60_000,
        what: 'vLLM to become healthy once the Ray worker joined',
      });
      await waitFor(() => read(dir, 'gpus.txt').trim(), {
        timeoutMs: 30_000,
        what: 'the GPU count seen by ray',
      });
      expect(read(dir, 'gpus.txt').trim()).toBe('8.0');
      const models = JSON.parse((await probe(`${base}/v1/models`)).body) as { data: { id: string }[] };
      expect(models.data[0]!.id).toBe(SERVED);
      const metrics = (await probe(`${base}/metrics`)).body;
      expect(metrics).toContain(`vllm:num_requests_running{model_name="${SERVED}"`);
      expect(read(dir, 'head.err')).toContain('Application startup complete.');
      expect(read(dir, 'head.err')).toContain('Uvicorn running on http://0.0.0.0:8080');
      await cancel(id);
      expect(await waitForEnd(id, 30_000)).toBe('CANCELLED');
    },
    JOB_TEST_TIMEOUT_MS,
  );

  it(
    'fails like the real engines: CUDA OOM traceback, port in use, missing model path',
    async () => {
      const dir = jobDir('failures');
      const sglang = (model: string) =>
        `python3 -m sglang.launch_server --model-path ${model} --host 0.0.0.0 --port 8080`;
      const run = (base: string, command: string) =>
        `${step(0, base)} ${command}; echo $? >"$DIR/${base}.rc"`;
      const id = await startJob(
        dir,
        [
          ...prologue(dir),
          'set +e',
          run('oom', `env SML_STANDIN_FAIL=oom ${sglang('"$MODEL"')}`),
          // Something else holds port 8080 on the node (the batch step runs on nodes[0]).
          'python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 & blocker=$!',
          'until (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; do sleep 0.1; done',
          run('port-sglang', sglang('"$MODEL"')),
          run('port-vllm', 'vllm serve "$MODEL" --port 8080'),
          'kill $blocker',
          run('missing-sglang', sglang('/opt/sml-local/models/nobody/missing-model')),
          run('missing-vllm', 'vllm serve /opt/sml-local/models/nobody/missing-model --port 8080'),
          'exit 0',
        ],
        1,
        'sml-harness-failures',
      );
      expect(await waitForEnd(id, QUEUE_WAIT_MS)).toBe('COMPLETED');
      for (const base of ['oom', 'port-sglang', 'port-vllm', 'missing-sglang', 'missing-vllm']) {
        expect({ base, rc: read(dir, `${base}.rc`).trim() }).toEqual({ base, rc: '1' });
      }
      expect(read(dir, 'oom.err')).toContain('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate');
      expect(read(dir, 'port-sglang.err')).toContain(
        "[Errno 98] error while attempting to bind on address ('0.0.0.0', 8080): address already in use",
      );
      expect(read(dir, 'port-vllm.err')).toContain('OSError: [Errno 98] Address already in use');
      expect(read(dir, 'missing-sglang.err')).toContain(
        "Incorrect path_or_model_id: '/opt/sml-local/models/nobody/missing-model'",
      );
      expect(read(dir, 'missing-vllm.err')).toContain(
        "Invalid repository ID or local directory specified: '/opt/sml-local/models/nobody/missing-model'",
      );
    },
    JOB_TEST_TIMEOUT_MS,
  );
});
