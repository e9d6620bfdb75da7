// The shell: who is signed in, the navigation and a history-API router over /ui/...
import { render } from "preact";
import { lazy, Suspense } from "preact/compat";
import { useEffect, useState } from "preact/hooks";
import { ApiError, apiKey, get, Me, setApiKey } from "./api";
import { AssetPage } from "./asset";
import { navigate, useLocation } from "./router";
import { SearchPage } from "./search";
import "./style.css";

const LineagePage = lazy(() => import("./lineage"));
const SparqlPage = lazy(() => import("./sparql"));
const GovernancePage = lazy(() => import("./governance"));
const AdminPage = lazy(() => import("./admin"));

function SignIn({ onSignedIn, note }: { onSignedIn: (me: Me) => void; note: string }) {
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
  return (
    <main class="signin">
      <h1>Sign in to semcat</h1>
      <p>{note}</p>
      <form onSubmit={submit}>
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
      {apiKey() && <button class="link" onClick={onSignOut}>Sign out</button>}
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

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [note, setNote] = useState("");
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    // without a key, ask /api/v1/me only where anonymous callers are let in (`--open`)
    const open = apiKey() ? Promise.resolve(true) : get<{ open: boolean }>("/ui/config.json").then((c) => c.open);
    open.then((may) => may ? get<Me>("/api/v1/me").then(setMe) : setNote("This server needs an API key."))
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401 && apiKey()) setNote("That key was refused: " + e.message);
        else setNote("This server needs an API key.");
        setApiKey(null);
      }).finally(() => setChecked(true));
  }, []);
  if (!checked) return <p>Loading…</p>;
  if (!me) return <SignIn note={note} onSignedIn={(m) => { setMe(m); if (location.pathname === "/") navigate("/ui/search"); }} />;
  return (
    <>
      <a class="skip" href="#content">Skip to content</a>
      <Nav me={me} onSignOut={() => { setApiKey(null); setMe(null); setNote("Signed out."); }} />
      <div id="content" tabIndex={-1}><Routes me={me} /></div>
    </>
  );
}

render(<App />, document.getElementById("app")!);
