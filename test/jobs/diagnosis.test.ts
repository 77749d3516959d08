import { describe, expect, it } from 'vitest';
import { describeKnownFailures, diagnoseFailure } from '../../src/jobs/diagnosis.js';

describe('diagnoseFailure', () => {
  it('recognises a CUDA out-of-memory traceback', () => {
    const text =
      'Traceback (most recent call last):\n  File "x.py"\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n';
    const hint = diagnoseFailure([{ file: 'replica_0.err', text }]);
    expect(hint).toMatchObject({ signature: 'gpu_oom', file: 'replica_0.err' });
    expect(hint?.line).toContain('CUDA out of memory');
    expect(hint?.fix).toMatch(/GPUs per replica|quantized/);
  });
  it('names the missing model path', () => {
    const hint = diagnoseFailure([
      {
        file: 'replica_0.err',
        text: 'OSError: /models/acme/nope is not a local folder and is not a valid model identifier\n',
      },
    ]);
    expect(hint?.signature).toBe('model_path_missing');
    const named = diagnoseFailure([
      { file: 'replica_0.err', text: 'ValueError: model path does not exist: /data/m1\n' },
    ]);
    expect(named?.cause).toContain('/data/m1');
  });
  it('recognises image, port, NCCL and import failures', () => {
    const cases: [string, string][] = [
      ['Container image not found: /capstor/x.sqsh', 'image_missing'],
      ['OSError: [Errno 98] Address already in use', 'port_in_use'],
      ['torch.distributed.DistBackendError: NCCL error in: ../nccl.cpp, unhandled system error', 'nccl'],
      ["ModuleNotFoundError: No module named 'sglang_router'", 'python_import'],
    ];
    for (const [text, signature] of cases) {
      expect(diagnoseFailure([{ file: 'log.err', text }])?.signature).toBe(signature);
    }
  });
  it('explains a time limit from the SLURM state and finds nothing in clean logs', () => {
    expect(diagnoseFailure([{ file: 'log.err', text: 'all good\n' }])).toBeNull();
    expect(
      diagnoseFailure([], { jobId: '1', state: 'TIMEOUT', rawState: 'TIMEOUT', timeLimit: '00:10:00' })
        ?.signature,
    ).toBe('time_limit');
  });
  it('names the signal that killed an engine, from the logs or from the exit code', () => {
    const fromSrun = diagnoseFailure([{ file: 'log.err', text: 'srun: error: n2: task 0: Killed\n' }]);
    expect(fromSrun).toMatchObject({ signature: 'engine_killed' });
    expect(fromSrun?.cause).toBe('The engine on n2 was killed by a signal (Killed).');
    const fromMaster = diagnoseFailure([
      {
        file: 'log.err',
        text: 'sml-mcp: replica 1 exited with code 137 (SIGKILL) at 2026-01-01T00:00:00Z\n',
      },
    ]);
    expect(fromMaster?.cause).toBe('The engine of replica 1 was killed by SIGKILL.');
    const fromExitCode = diagnoseFailure([], {
      jobId: '1',
      state: 'FAILED',
      rawState: 'FAILED',
      exitCode: '0:9',
    });
    expect(fromExitCode?.cause).toContain('signal 9 (SIGKILL)');
    expect(
      diagnoseFailure([], { jobId: '1', state: 'FAILED', rawState: 'FAILED', exitCode: '1:0' }),
    ).toBeNull();
  });
  it('says a chain is broken when a job ended instead of starting early', () => {
    const hint = diagnoseFailure([
      {
        file: 'log.err',
        text: 'sml-mcp: chain broken: job 41 before this one never ran (cancelled while queued?) or ended the chain; this job ends instead of starting early\n',
      },
    ]);
    expect(hint).toMatchObject({ signature: 'chain_broken' });
    expect(hint?.cause).toContain('job 41');
  });
});

describe('describeKnownFailures', () => {
  it('lists every signature diagnoseFailure recognises', () => {
    expect(describeKnownFailures()).toBe(
      'GPU out of memory, model path missing, container image missing, port in use, NCCL failures, Python import errors, a broken chain, an engine killed by a signal, the time limit',
    );
  });
});
