/**
 * Open an MCP App the way a host does, in Debian's headless Chromium (never a downloaded browser):
 * the app's HTML comes from the server's ui:// resource, its tool calls and resource reads go
 * through ext-apps' AppBridge (test/helpers/app-host-page.ts) to a real MCP client of the server.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CallToolResultSchema,
  ListResourcesResultSchema,
  ReadResourceResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { build } from 'esbuild';
import { type BrowserContext, chromium, type FrameLocator, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const HOST_PAGE = fileURLToPath(new URL('./app-host-page.ts', import.meta.url));

/** What the app may ask of the server through the host, and how its answers are checked. */
const RELAYED = {
  'tools/call': CallToolResultSchema,
  'resources/read': ReadResourceResultSchema,
  'resources/list': ListResourcesResultSchema,
} as const;

export interface TestHost {
  page: Page;
  app: FrameLocator;
  /** Every network request the page or the app made (the app must make none). */
  requests: string[];
  /** Console errors and CSP violations from any frame. */
  problems: string[];
  /** The app's calls relayed to the server, e.g. `tools/call status`. */
  relayed: string[];
  screenshot(path: string): Promise<void>;
  /** A picture of a terminal's text (e.g. a tmux capture), drawn as a terminal would. */
  screenshotTerminal(text: string, path: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenAppOptions {
  uri: string;
  /** The tool call whose result the host shows the app with. */
  toolInput: Record<string, unknown>;
  toolResult: Record<string, unknown>;
  theme?: 'light' | 'dark';
  width?: number;
  height?: number;
}

let hostBundle: Promise<string> | undefined;

function bundleHostPage(): Promise<string> {
  hostBundle ??= build({
    entryPoints: [HOST_PAGE],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  }).then((result) => result.outputFiles[0]!.text);
  return hostBundle;
}

export async function openApp(client: Client, options: OpenAppOptions): Promise<TestHost> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)`,
    );
  const resource = await client.readResource({ uri: options.uri });
  const content = resource.contents[0] as { text: string; _meta?: { ui?: { csp?: unknown } } };
  const profile = mkdtempSync(join(tmpdir(), 'sml-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: options.width ?? 900, height: options.height ?? 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  const problems: string[] = [];
  const relayed: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.exposeFunction('relayToServer', async (method: string, params: Record<string, unknown>) => {
    const schema = RELAYED[method as keyof typeof RELAYED];
    if (!schema) throw new Error(`the test host does not relay ${method}`);
    relayed.push(`${method} ${String(params.name ?? params.uri ?? '')}`);
    return client.request({ method, params } as never, schema);
  });
  await page.setContent(
    `<!doctype html><html><head><style>body{margin:0;background:#e9ebee}iframe{display:block;border:0;width:100%;height:400px;background:#fff}</style></head><body><script>${await bundleHostPage()}</script></body></html>`,
  );
  // Runs in the page, where host-page.ts defined openApp.
  await page.evaluate((setup) => (globalThis as unknown as HostPage).openApp(setup), {
    html: content.text,
    csp: content._meta?.ui?.csp,
    toolInput: options.toolInput,
    toolResult: options.toolResult,
    theme: options.theme ?? 'light',
  });
  return {
    page,
    app: page.frameLocator('#app'),
    requests,
    problems,
    relayed,
    async screenshot(path) {
      await page.locator('#app').screenshot({ path });
    },
    async screenshotTerminal(text, path) {
      const terminal = await context.newPage();
      const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      await terminal.setContent(
        `<pre style="display:inline-block;margin:0;padding:10px 14px;background:#1e1e1e;color:#d4d4d4;font:13px/1.35 'DejaVu Sans Mono',monospace">${escaped}</pre>`,
      );
      await terminal.locator('pre').screenshot({ path });
      await terminal.close();
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

interface HostPage {
  openApp(setup: unknown): Promise<void>;
}
