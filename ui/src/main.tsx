// The shell: who is signed in, the navigation and a history-API router over /ui/...
import { render } from "preact";
import { lazy, Suspense } from "preact/compat";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, Me, setApiKey, signedIn, UiConfig } from "./api";
import { AssetPage } from "./asset";
import { navigate, useLocation } from "./router";
import { CALLBACK } from "./sso-paths";
import { SearchPage } from "./search";
import "./style.css";

const LineagePage = lazy(() => import("./lineage"));
const SparqlPage = lazy(() => import("./sparql"));
const GovernancePage = lazy(() => import("./governance"));
const AdminPage = lazy(() => import("./admin"));

function SignIn({ onSignedIn, note, config }: { onSignedIn: (me: Me) => void; note: string; config: UiConfig }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  async function submit(e: Event) {
    e.preventDefault();
    setApiKey(key.trim());
    try {
      onSignedIn(await get<Me>("/api/v1/me"));
    } catch (err) {
      setApiKey(null);
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }
  async function sso() {
    const here = location.pathname + location.search;
    const to = here.startsWith("/ui/") && !here.startsWith(CALLBACK) ? here : "/ui/search";
    try {
      await (await import("./oidc")).signIn(config.oidc!, to);
    } catch (err) {
      setError("Single sign-on is unavailable: " + (err instanceof Error ? err.message : String(err)));
    }
  }
  return (
    <main class="signin">
      <h1>Sign in to semcat</h1>
      {note && <p data-testid="signin-note">{note}</p>}
      {config.oidc && (
        <section aria-labelledby="h-sso" class="sso">
          <h2 id="h-sso">Single sign-on</h2>
          <button type="button" class="primary" onClick={sso}>Sign in with SSO</button>
          <p class="muted small">With your organisation's account at <span class="mono">{config.oidc.issuer}</span>.</p>
        </section>
      )}
      <form onSubmit={submit}>
        {config.oidc && <h2>Or with an API key</h2>}
        <label for="apikey">API key</label>
        <input id="apikey" type="password" autocomplete="off" value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)} required />
        <button type="submit">Sign in</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <p class="muted">Keys come from <code>semcat keys create</code> or an admin. The key is kept
        in this tab only (session storage) and sent as <code>X-API-Key</code>.</p>
    </main>
  );
}

function Nav({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const loc = useLocation();
  const links: [string, string][] = [["/ui/search", "Search"], ["/ui/lineage", "Lineage"],
    ["/ui/sparql", "SPARQL"], ["/ui/governance", "Governance"]];
  if (me.admin) links.push(["/ui/admin", "Admin"]);
  return (
    <header class="top">
      <a class="brand" href="/ui/search">semcat</a>
      <nav aria-label="Main">
        {links.map(([href, label]) => (
          <a href={href} aria-current={loc.path.startsWith(href) ? "page" : undefined}>{label}</a>
        ))}
      </nav>
      <span class="who" data-testid="who">{me.subject}{me.admin ? " (admin)" : ""}</span>
      {signedIn() && <button class="link" onClick={onSignOut}>Sign out</button>}
    </header>
  );
}

function Routes({ me }: { me: Me }) {
  const loc = useLocation();
  const p = loc.path;
  let page;
  if (p.startsWith("/ui/asset/")) page = <AssetPage key={p} assetKey={decodeURIComponent(p.slice(10))} me={me} />;
  else if (p.startsWith("/ui/lineage")) page = <LineagePage />;
  else if (p.startsWith("/ui/sparql")) page = <SparqlPage />;
  else if (p.startsWith("/ui/governance")) page = <GovernancePage me={me} />;
  else if (p.startsWith("/ui/admin")) page = <AdminPage me={me} />;
  else page = <SearchPage />;
  return <Suspense fallback={<p>Loading…</p>}>{page}</Suspense>;
}

const NO_CONFIG: UiConfig = { open: false, oidc: null };

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [note, setNote] = useState("");
  const [config, setConfig] = useState<UiConfig>(NO_CONFIG);
  const [checked, setChecked] = useState(false);
  const expired = () => { setMe(null); setNote("Your single sign-on session expired; sign in again."); };
  useEffect(() => {
    // ask /api/v1/me only with credentials or where anonymous callers are let in (`--open`)
    (async () => {
      const c = await get<UiConfig>("/ui/config.json").catch(() => NO_CONFIG);
      setConfig(c);
      if (c.oidc) {
        try {
          const { to } = await (await import("./oidc")).restore(c.oidc, expired);
          if (to) navigate(to, true);
        } catch (e) {
          setNote("Single sign-on did not complete: " + (e instanceof Error ? e.message : String(e)));
          if (location.pathname === CALLBACK) navigate("/ui/search", true);
        }
      }
      const via = signedIn();
      if (!via && !c.open) {
        setNote((n) => n || (c.oidc ? "This server needs single sign-on or an API key." : "This server needs an API key."));
        return;
      }
      try {
        setMe(await get<Me>("/api/v1/me"));
      } catch (e) {
        const why = e instanceof ApiError ? e.message : String(e);
        setNote(via === "key" ? "That key was refused: " + why : via === "sso" ? "Your sign-on was refused: " + why
          : "This server needs an API key.");
        setApiKey(null);
        if (via === "sso" && c.oidc) await (await import("./oidc")).signOut(c.oidc);
      }
    })().finally(() => setChecked(true));
  }, []);
  async function signOut() {
    if (signedIn() === "sso" && config.oidc) await (await import("./oidc")).signOut(config.oidc);
    setApiKey(null);
    setMe(null);
    setNote("Signed out.");
  }
  if (!checked) return <p>Loading…</p>;
  if (!me) return <SignIn config={config} note={note} onSignedIn={(m) => { setMe(m); if (location.pathname === "/") navigate("/ui/search"); }} />;
  return (
    <>
      <a class="skip" href="#content">Skip to content</a>
      <Nav me={me} onSignOut={signOut} />
      <div id="content" tabIndex={-1}><Routes me={me} /></div>
    </>
  );
}

render(<App />, document.getElementById("app")!);
