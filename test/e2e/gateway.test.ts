/**
 * Status reports, as its own field, whether a deployment answers through the serving gateway
 * (SML's TUI check): a real launch on the local cluster registers with the OpenTela stand-in, and
 * the stand-in's gateway (`otela gateway`) relays a one-token completion to it.
 */
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUILT_IN_SYSTEMS } from '../../src/domain/system.js';
import type { JobStatusView } from '../../src/jobs/types.js';
import { describeOnCluster } from '../helpers/cluster.js';
import { connect, createHarness, expectToolSuccess, type Harness } from '../mcp/harness.js';

const OTELA = fileURLToPath(new URL('../engines/bin/otela', import.meta.url));
const KEY = `sk-research-${process.pid}-abcdef0123`;

describeOnCluster('gateway probe on the local cluster', () => {
  let gateway: ResultPromise;
  let harness: Harness;
  let client: Client;
  let jobId: string | undefined;

  beforeAll(async () => {
    gateway = execa('python3', [OTELA, 'gateway', '--listen', '10.77.0.1:0'], {
      env: { SML_GATEWAY_KEY: KEY },
      buffer: false,
    });
    const gatewayUrl = await new Promise<string>((resolve, reject) => {
      gateway.stdout!.on('data', (chunk: Buffer) => {
        const match = /gateway listening on (http:\/\/\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      gateway.catch(reject);
    });
    const local = BUILT_IN_SYSTEMS.find((system) => system.name === 'local')!;
    harness = createHarness({
      onCluster: true,
      env: { SML_SWISSAI_RESEARCH_API_KEY: KEY },
      configFile: { systems: [{ ...local, gatewayUrl }] },
    });
    client = await connect(harness.deps);
  });

  afterAll(async () => {
    if (jobId) await harness.scheduler.cancel(jobId).catch(() => undefined);
    await client?.close();
    harness?.cleanup();
    gateway?.kill();
  });

  it('says the serving deployment answers through the gateway, without showing the key', async () => {
    const launched = expectToolSuccess(
      await client.callTool({
        name: 'launch',
        arguments: { model: 'swiss-ai/Apertus-8B-Instruct-2509', framework: 'sglang', time: '00:10:00' },
      }),
    );
    jobId = (launched.job_ids as string[])[0]!;
    let serving: JobStatusView | undefined;
    for (let round = 0; round < 16 && !serving; round++) {
      const outcome = await client.callTool(
        { name: 'status', arguments: { job_ids: [jobId], wait_until: 'serving', timeout_s: 25 } },
        undefined,
        { timeout: 60_000 },
      );
      expect(JSON.stringify(outcome)).not.toContain(KEY);
      const waited = expectToolSuccess(outcome) as { jobs: JobStatusView[]; wait: { reached: boolean } };
      expect(waited.jobs[0]!.phase).not.toBe('ended');
      if (waited.wait.reached) serving = waited.jobs[0];
    }
    expect(serving, 'the job never reached serving').toBeDefined();
    // Registration with the mesh follows the engine's start: the gateway answers within a few polls.
    let gatewayField = serving!.gateway;
    for (let round = 0; round < 10 && !gatewayField?.answers; round++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const status = expectToolSuccess(
        await client.callTool({ name: 'status', arguments: { job_ids: [jobId] } }),
      ) as { jobs: JobStatusView[] };
      gatewayField = status.jobs[0]!.gateway;
    }
    expect(gatewayField).toMatchObject({ answers: true, http_status: 200 });
    const text = await client.callTool({ name: 'status', arguments: { job_ids: [jobId] } });
    expect((text.content as { text: string }[])[0]!.text).toMatch(/gateway: answers/);
    expect(gatewayField!.detail).toContain(serving!.served_model_name);
  });
});
