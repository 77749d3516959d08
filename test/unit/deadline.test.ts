import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SmlError } from '../../src/errors.js';
import { runWithinBudget } from '../../tools/deadline.js';
import type { ToolContext, ToolDefinition } from '../../tools/define-tool.js';

/** A tool that only ends when its call's signal aborts. */
const waitsForever: ToolDefinition = {
  name: 'waits_forever',
  title: 'Waits forever',
  description: 'test',
  kind: 'read',
  touchesCluster: false,
  input: z.object({}),
  output: z.object({}),
  run: (_args, context) =>
    new Promise((_, reject) =>
      context.extra.signal.addEventListener('abort', () => reject(context.extra.signal.reason)),
    ),
};

describe('runWithinBudget', () => {
  it('reports a call the client cancelled as CANCELLED, whatever reason the client gave', async () => {
    const client = new AbortController();
    const context = { extra: { signal: client.signal, _meta: {} } } as unknown as Omit<
      ToolContext,
      'progress'
    >;
    const call = runWithinBudget(waitsForever, {}, context);
    client.abort('user pressed stop');
    const error = await call.catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SmlError);
    expect(error).toMatchObject({ code: 'CANCELLED' });
  });
});
