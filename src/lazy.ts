/**
 * An asynchronous API whose implementation is built on its first call, so start-up loads none of
 * its modules. `methods` lists every method (the type makes the list complete); each forwards to
 * the built implementation. A build that fails is retried by the next call.
 */
export function lazyApi<T extends object>(
  methods: { readonly [K in keyof T]-?: true },
  build: () => Promise<T>,
): T {
  let built: Promise<T> | undefined;
  const get = (): Promise<T> => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
  const api: Record<string, unknown> = {};
  for (const name of Object.keys(methods)) {
    api[name] = async (...args: unknown[]) => {
      const implementation = (await get()) as Record<string, (...a: unknown[]) => unknown>;
      return implementation[name]!(...args);
    };
  }
  return api as T;
}
