/**
 * A minimal MCP Apps host for tests, built on ext-apps' own AppBridge: it puts the app's HTML in a
 * sandboxed iframe under the CSP the resource declares (as hosts do), answers the app's
 * initialize, and relays its tools/call and resources/read to `window.relayToServer`, which the
 * test wires to a real MCP client of the real server. Bundled by test/helpers/app-host.ts.
 */
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';

interface HostSetup {
  html: string;
  /** The `_meta.ui.csp` of the resource: the domains the app may reach (none for ours). */
  csp: { connectDomains?: string[]; resourceDomains?: string[] } | undefined;
  toolInput: Record<string, unknown>;
  toolResult: Record<string, unknown>;
  theme: 'light' | 'dark';
}

declare global {
  interface Window {
    relayToServer(method: string, params: unknown): Promise<unknown>;
    openApp(setup: HostSetup): Promise<void>;
    hostLog: string[];
  }
}

window.hostLog = [];

/** The CSP a host applies from `_meta.ui.csp`: inline code only, plus the declared domains. */
function contentSecurityPolicy(csp: HostSetup['csp']): string {
  const connect = csp?.connectDomains?.length ? csp.connectDomains.join(' ') : "'none'";
  const resources = csp?.resourceDomains?.join(' ') ?? '';
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${resources}`,
    `style-src 'unsafe-inline' ${resources}`,
    `img-src data: ${resources}`,
    `font-src data: ${resources}`,
    `connect-src ${connect}`,
  ].join('; ');
}

window.openApp = async (setup: HostSetup) => {
  document.documentElement.dataset.theme = setup.theme;
  const iframe = document.createElement('iframe');
  iframe.id = 'app';
  iframe.setAttribute('sandbox', 'allow-scripts');
  iframe.title = 'sml-mcp live view';
  const bridge = new AppBridge(
    null,
    { name: 'sml-mcp test host', version: '1.0.0' },
    { serverTools: {}, serverResources: {}, logging: {} },
    { hostContext: { theme: setup.theme, displayMode: 'inline', platform: 'web' } },
  );
  bridge.oncalltool = (params) => window.relayToServer('tools/call', params) as never;
  bridge.onreadresource = (params) => window.relayToServer('resources/read', params) as never;
  bridge.onlistresources = (params) => window.relayToServer('resources/list', params) as never;
  bridge.onloggingmessage = (params) =>
    window.hostLog.push(`${params.level}: ${JSON.stringify(params.data)}`);
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${height}px`;
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  // Listen before the app's document loads: it says ui/initialize as soon as its script runs.
  document.body.append(iframe);
  await bridge.connect(new PostMessageTransport(iframe.contentWindow!, iframe.contentWindow!));
  const policy = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(setup.csp)}">`;
  iframe.srcdoc = setup.html.replace('<head>', `<head>${policy}`);
  await initialized;
  await bridge.sendToolInput({ arguments: setup.toolInput });
  await bridge.sendToolResult(setup.toolResult as never);
};
