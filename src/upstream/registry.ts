// The set of configured clusters: `/k8s/<cluster>/…` selects one by name, everything else goes to the default.
//
// Built once at start-up and never changed; an unknown name is the caller's 404, not a fallback to the default
// (a typo must not send a request to the wrong cluster).
import type { Upstream } from "./types.ts";

export class UpstreamRegistry {
  readonly #byName = new Map<string, Upstream>();
  readonly #default: Upstream;

  constructor(upstreams: Upstream[], defaultName: string) {
    for (const u of upstreams) {
      if (this.#byName.has(u.name)) throw new Error(`duplicate cluster name "${u.name}"`);
      this.#byName.set(u.name, u);
    }
    const d = this.#byName.get(defaultName);
    if (!d)
      throw new Error(
        `default cluster "${defaultName}" is not one of: ${[...this.#byName.keys()].join(", ")}`,
      );
    this.#default = d;
  }

  get(name: string): Upstream | undefined {
    return this.#byName.get(name);
  }

  default(): Upstream {
    return this.#default;
  }

  all(): Upstream[] {
    return [...this.#byName.values()];
  }

  close(): void {
    for (const u of this.#byName.values()) u.close();
  }
}
