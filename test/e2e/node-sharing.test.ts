import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatusView } from '../../src/jobs/types.js';
import { connect, createHarness, expectToolSuccess, type Harness } from '../mcp/harness.js';

/**
 * The local cluster lets jobs share nodes (count-only GPU GRES, four per node): a 1-GPU deployment
 * asks for one GPU instead of a whole node, so twelve of them run at once on the four nodes, each
 * on its own ports, every endpoint answering.
 */

const DEPLOYMENTS = 12;
let harness: Harness;
let client: Client;
const jobIds: string[] = [];

beforeAll(async () => {
  harness = createHarness({ onCluster: true });
  client = await connect(harness.deps);
});

afterAll(async () => {
  await Promise.all(jobIds.map((id) => harness.scheduler.cancel(id).catch(() => undefined)));
  await client?.close();
  harness?.cleanup();
});

describe('node sharing on the local cluster', () => {
  it('runs twelve 1-GPU deployments at once on four 4-GPU nodes', { timeout: 300_000 }, async () => {
    for (let i = 0; i < DEPLOYMENTS; i++) {
      const launched = expectToolSuccess(
        await client.callTool({
          name: 'launch',
          arguments: {
            model: 'swiss-ai/Apertus-8B-Instruct-2509',
            framework: 'sglang',
            system: 'local',
            time: '00:10:00',
            gpus_per_replica: 1,
            disable_opentela: true,
            served_model_name: `share-${i}`,
          },
        }),
      );
      jobIds.push((launched.job_ids as string[])[0]!);
    }
    const scripts = (await harness.deps.jobs.scripts(jobIds[0]!))['master.sh'];
    expect(scripts).toContain('#SBATCH --gpus-per-node=1');
    expect(scripts).not.toContain('--exclusive');

    // In rounds of 50 s: a client gives up on one call after 60 s.
    let jobs: JobStatusView[] = [];
    for (let round = 0; round < 5; round++) {
      const waited = expectToolSuccess(
        await client.callTool({
          name: 'status',
          arguments: { job_ids: jobIds, wait_until: 'serving', timeout_s: 50 },
        }),
      );
      jobs = waited.jobs as JobStatusView[];
      if (!(waited.wait as { timed_out: boolean }).timed_out) break;
    }
    expect(jobs.map((j) => j.phase)).toEqual(Array(DEPLOYMENTS).fill('serving'));
    // All at once, three per node, never two on one port of a node.
    const perNode = new Map<string, number>();
    for (const job of jobs) perNode.set(job.nodes[0]!, (perNode.get(job.nodes[0]!) ?? 0) + 1);
    expect([...perNode.values()].reduce((a, b) => a + b, 0)).toBe(DEPLOYMENTS);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(4);
    const urls = jobs.map((j) => j.endpoints.find((e) => e.kind === 'replica')!.url);
    expect(new Set(urls).size).toBe(DEPLOYMENTS);
    for (const [i, url] of urls.entries()) {
      const response = await fetch(`${url}/models`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { id: string }[] };
      expect(body.data[0]!.id).toBe(`root/share-${i}`);
    }
  });
});
