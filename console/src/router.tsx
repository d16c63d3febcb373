// Client-side routes under /ui/ with the History API, so links such as /ui/reviews/<id> (from webhooks) open directly
// (the gateway answers index.html for every clean /ui/ path).
import { type MouseEvent, type ReactNode, useEffect, useState } from "react";

export const BASE = "/ui";

export function navigate(to: string): void {
  window.history.pushState(null, "", `${BASE}${to}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

const read = () => window.location.pathname.replace(/^\/ui/, "") || "/";

/** The path below /ui, e.g. "/reviews/abc". */
export function usePath(): string {
  const [path, setPath] = useState(read);
  useEffect(() => {
    const on = () => setPath(read());
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return path;
}

export function Link(props: { to: string; children: ReactNode; className?: string; ariaCurrent?: boolean }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a
      href={`${BASE}${props.to}`}
      onClick={onClick}
      className={props.className}
      aria-current={props.ariaCurrent ? "page" : undefined}
    >
      {props.children}
    </a>
  );
}
