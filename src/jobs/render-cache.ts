/**
 * Scripts rendered by dry runs, kept a while so their full text is one resource read away
 * (sml://renders/{render_id}/{script}) without inflating the dry run's answer. Keyed by a hash of
 * the content: rendering the same thing twice gives the same id.
 */
export interface RenderedSet {
  renderId: string;
  scripts: Readonly<Record<string, string>>;
  storedAt: number;
}

export const RENDER_TEMPLATE = 'sml://renders/{render_id}/{script}';

export function renderUri(renderId: string, script: string): string {
  return `sml://renders/${renderId}/${script}`;
}

const DEFAULT_TTL_MS = 60 * 60_000;
const DEFAULT_MAX_RENDERS = 32;

export class RenderCache {
  private readonly renders = new Map<string, RenderedSet>();

  constructor(
    private readonly ttlMs = DEFAULT_TTL_MS,
    private readonly maxRenders = DEFAULT_MAX_RENDERS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Store a rendered set; returns its id (16 hex digits of the content's SHA-256). */
  async put(scripts: Readonly<Record<string, string>>): Promise<string> {
    // node:crypto takes milliseconds to load: the first dry run pays for it, not the server's start.
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256');
    for (const name of Object.keys(scripts).sort()) hash.update(`${name}\0${scripts[name]}\0`);
    const renderId = hash.digest('hex').slice(0, 16);
    this.renders.delete(renderId);
    this.renders.set(renderId, { renderId, scripts: { ...scripts }, storedAt: this.now() });
    this.evict();
    return renderId;
  }

  get(renderId: string): RenderedSet | undefined {
    this.evict();
    return this.renders.get(renderId);
  }

  list(): RenderedSet[] {
    this.evict();
    return [...this.renders.values()].reverse();
  }

  private evict(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, set] of this.renders) {
      if (set.storedAt < oldest || this.renders.size > this.maxRenders) this.renders.delete(id);
    }
  }
}
