// Small shared pieces: times in the viewer's zone, error and empty states, a polling hook.
import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api.ts";

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return <span>{iso}</span>;
  return (
    <time dateTime={iso} title={`${iso} (UTC)`}>
      {d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}
    </time>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError && error.code ? `${error.code} ${error.reason}: ` : "";
  return (
    <div className="error" role="alert">
      {code}
      {message}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads with `fetcher`, again when `deps` change, and every `intervalMs` if given (live views). */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[], intervalMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const latest = useRef(fetcher);
  latest.current = fetcher;
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's; tick forces a reload
  useEffect(() => {
    let live = true;
    const run = () => {
      latest.current().then(
        (d) => {
          if (!live) return;
          setData(d);
          setError(undefined);
          setLoading(false);
        },
        (e: unknown) => {
          if (!live) return;
          setError(e);
          setLoading(false);
        },
      );
    };
    setLoading(true);
    run();
    const timer = intervalMs ? setInterval(run, intervalMs) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [...deps, tick, intervalMs]);
  return { data, error, loading, reload };
}

export function Field(props: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the child passed in
    <label className="field">
      <span>{props.label}</span>
      {props.children}
    </label>
  );
}

/** datetime-local value (viewer's zone) → RFC 3339 UTC, or undefined when empty. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
