// The simulated main process of each container: what `logs` reads and `attach` attaches to. It has printed its
// start-up lines since the pod started, prints one more line every ~500 ms while anyone follows or attaches, and
// echoes what an attached client types (it behaves like `cat`). Printed lines are kept, bounded, so a later `logs`
// shows them too.
//
// State lives per simulator (keyed by its store) and per container incarnation (pod uid), never global, so two
// simulators in one test process do not share logs. Memory stance: at most MAX_LINES lines per container.
import type { ObjectStore, StreamContext } from "../contracts.ts";
import { type LogLine, type LogSubject, liveLine, startupLines } from "./loglines.ts";
import type { ContainerSpec, PodView } from "./pod.ts";

export const TICK_MS = 500;
const MAX_LINES = 1000;

export interface MainProcess {
  readonly subject: LogSubject;
  history(): LogLine[];
  /** Receives every new line; the ticker runs while at least one listener is subscribed. */
  subscribe(listener: (line: LogLine) => void): () => void;
  /** Input on the process's stdin: complete lines are printed back (and logged) as `cat` would. */
  input(text: string): void;
}

class SimulatedMain implements MainProcess {
  readonly subject: LogSubject;
  #lines: LogLine[];
  #listeners = new Set<(line: LogLine) => void>();
  #timer: NodeJS.Timeout | undefined;
  #tick = 0;
  #partial = "";

  constructor(subject: LogSubject, start: Date) {
    this.subject = subject;
    this.#lines = startupLines(subject, start);
  }

  history(): LogLine[] {
    return [...this.#lines];
  }

  subscribe(listener: (line: LogLine) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#timer) {
      this.#timer = setInterval(() => {
        const now = new Date();
        this.#print({ time: now, text: liveLine(this.subject, this.#tick++, now) });
      }, TICK_MS);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  input(text: string): void {
    const parts = (this.#partial + text).split(/\r\n|\n|\r/);
    this.#partial = parts.pop() ?? "";
    for (const line of parts) this.#print({ time: new Date(), text: line });
  }

  #print(line: LogLine): void {
    this.#lines.push(line);
    if (this.#lines.length > MAX_LINES) this.#lines.splice(0, this.#lines.length - MAX_LINES);
    for (const l of [...this.#listeners]) l(line);
  }
}

const registries = new WeakMap<ObjectStore, Map<string, SimulatedMain>>();

export function mainProcessFor(ctx: StreamContext, view: PodView, container: ContainerSpec): MainProcess {
  let registry = registries.get(ctx.store);
  if (!registry) {
    registry = new Map();
    registries.set(ctx.store, registry);
  }
  const key = `${view.namespace}/${view.name}/${view.uid}/${container.name}`;
  let main = registry.get(key);
  if (!main) {
    const status = (view.pod.status ?? {}) as { podIP?: string };
    main = new SimulatedMain(
      {
        namespace: view.namespace,
        pod: view.name,
        container: container.name,
        image: container.image ?? "",
        podIP: status.podIP ?? "",
        port: container.ports?.[0]?.containerPort,
      },
      view.startTime,
    );
    registry.set(key, main);
  }
  return main;
}

/** Drops the state of a pod's containers once the pod is gone. */
export function forgetPod(ctx: StreamContext, namespace: string, name: string, uid: string): void {
  const registry = registries.get(ctx.store);
  if (!registry) return;
  for (const key of registry.keys()) if (key.startsWith(`${namespace}/${name}/${uid}/`)) registry.delete(key);
}
