// The console shell: sign-in, the navigation, and the route → page table. Keyboard: every control is a native link,
// button or input; "g" then r/s/a/i/p jumps between sections; a skip link leads to the content.
import { type FormEvent, useEffect, useState } from "react";
import { currentSession, type SessionInfo, signIn, signOut, whenSignedOut } from "./api.ts";
import { ErrorBox, Field } from "./components/common.tsx";
import { AuditPage } from "./pages/Audit.tsx";
import { IdentitiesPage } from "./pages/Identities.tsx";
import { PoliciesPage } from "./pages/Policies.tsx";
import { ReviewDetailPage } from "./pages/ReviewDetail.tsx";
import { ReviewsPage } from "./pages/Reviews.tsx";
import { SessionDetailPage } from "./pages/SessionDetail.tsx";
import { SessionsPage } from "./pages/Sessions.tsx";
import { Link, navigate, usePath } from "./router.tsx";

const SECTIONS = [
  { path: "/reviews", label: "Reviews", key: "r" },
  { path: "/sessions", label: "Sessions", key: "s" },
  { path: "/audit", label: "Audit", key: "a" },
  { path: "/identities", label: "Identities", key: "i" },
  { path: "/policies", label: "Policies", key: "p" },
];

function Page({ path }: { path: string }) {
  const review = /^\/reviews\/([A-Za-z0-9-]+)$/.exec(path);
  if (review?.[1]) return <ReviewDetailPage id={review[1]} />;
  const session = /^\/sessions\/([A-Za-z0-9-]+)$/.exec(path);
  if (session?.[1]) return <SessionDetailPage id={session[1]} />;
  switch (path) {
    case "/":
    case "/reviews":
      return <ReviewsPage />;
    case "/sessions":
      return <SessionsPage />;
    case "/audit":
      return <AuditPage />;
    case "/identities":
      return <IdentitiesPage />;
    case "/policies":
      return <PoliciesPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            The console has no page {path}. <Link to="/reviews">Go to the reviews inbox</Link>.
          </p>
        </section>
      );
  }
}

export function App() {
  const [session, setSession] = useState<SessionInfo | undefined | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const path = usePath();

  useEffect(() => {
    whenSignedOut(() => setSession(undefined));
    currentSession().then(setSession, (err: unknown) => {
      setError(err);
      setSession(undefined);
    });
  }, []);

  useEffect(() => {
    let pendingG = false;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      if (pendingG) {
        pendingG = false;
        const section = SECTIONS.find((s) => s.key === e.key);
        if (section) navigate(section.path);
        return;
      }
      pendingG = e.key === "g";
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (session === null) return <p className="muted center">Loading…</p>;
  if (!session) return <SignIn onSignedIn={setSession} error={error} />;
  const section = `/${path.split("/")[1] ?? ""}`;
  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header>
        <span className="brand">Airlock</span>
        <nav aria-label="Sections">
          {SECTIONS.map((s) => (
            <Link
              key={s.path}
              to={s.path}
              ariaCurrent={section === s.path || (section === "/" && s.path === "/reviews")}
            >
              {s.label}
            </Link>
          ))}
        </nav>
        <span className="who">
          {session.name} <span className="muted">({session.groups.join(", ") || "no groups"})</span>
          <button
            type="button"
            onClick={() => signOut().finally(() => setSession(undefined))}
            className="linklike"
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="main">
        <Page path={path} />
      </main>
    </>
  );
}

function SignIn({ onSignedIn, error }: { onSignedIn: (s: SessionInfo) => void; error: unknown }) {
  const [token, setToken] = useState("");
  const [failure, setFailure] = useState<unknown>(error);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFailure(undefined);
    try {
      onSignedIn(await signIn(token.trim()));
      setToken("");
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <h1>Airlock console</h1>
      <p className="muted">
        Sign in with your human identity's token (from `airlock identity create --kind human`).
      </p>
      <form onSubmit={submit} className="card">
        <Field label="Token">
          <input
            type="password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            autoComplete="off"
            required
            // biome-ignore lint/a11y/noAutofocus: the sign-in page has one field
            autoFocus
            name="token"
          />
        </Field>
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
      </form>
      <ErrorBox error={failure} />
    </main>
  );
}
