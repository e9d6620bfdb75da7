// Search: one box with autocomplete, the natural-language reading as removable chips, facets,
// highlights and why each hit matched. Everything the page shows follows from its URL.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get } from "./api";
import { Highlighted } from "./highlight";
import { assetHref, navigate, useLocation } from "./router";

const FACETS = ["type", "platform", "tag", "owner", "workspace", "classification", "term", "domain"];
const MODES = ["hybrid", "keyword", "semantic"] as const;

interface Recognised { text: string; start: number; end: number; filter: string; values: string[]; label: string }
interface Hit {
  id: string; type: string | string[]; name: string; qualifiedName: string | null;
  description: string | null; platform: string | null; workspace: string | null; score: number;
  why: Record<string, any>;
}
interface Result {
  mode: string; total: number; hits: Hit[]; next: string | null; tookMs: number;
  facets: Record<string, { value: string; count: number; label: string }[]>;
  interpretation: { nl?: { q: string; recognised: Recognised[]; overridden: string[]; note?: string } } & Record<string, any>;
}
interface Suggestion { text: string; id: string; type: string; qualifiedName: string | null; filter?: Record<string, string[]> }

function searchUrl(p: URLSearchParams): string {
  const s = p.toString();
  return "/ui/search" + (s ? "?" + s : "");
}

function with_(params: URLSearchParams, change: (p: URLSearchParams) => void): string {
  const p = new URLSearchParams(params);
  p.delete("cursor");
  change(p);
  return searchUrl(p);
}

function Autocomplete({ initial, onSubmit }: { initial: string; onSubmit: (q: string) => void }) {
  const [text, setText] = useState(initial);
  const [items, setItems] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(-1);
  const timer = useRef<number | undefined>(undefined);
  const loc = useLocation();
  useEffect(() => setText(initial), [initial]);
  function typed(value: string) {
    setText(value);
    window.clearTimeout(timer.current);
    if (!value.trim()) { setItems([]); return; }
    timer.current = window.setTimeout(() => {
      get<{ suggestions: Suggestion[] }>("/api/v1/search/suggest", { q: value.trim(), limit: 8 })
        .then((r) => { setItems(r.suggestions); setActive(-1); }).catch(() => setItems([]));
    }, 150);
  }
  function choose(s: Suggestion) {
    setItems([]);
    if (s.filter) {
      const [facet, values] = Object.entries(s.filter)[0];
      navigate(with_(loc.params, (p) => { p.append(facet, values[0]); p.set("q", ""); }));
      setText("");
    } else navigate(assetHref(s.id));
  }
  function key(e: KeyboardEvent) {
    if (e.key === "ArrowDown" && items.length) { e.preventDefault(); setActive((active + 1) % items.length); }
    else if (e.key === "ArrowUp" && items.length) { e.preventDefault(); setActive((active - 1 + items.length) % items.length); }
    else if (e.key === "Escape" && items.length) { e.preventDefault(); setItems([]); } // not the browser's "clear the box"
    else if (e.key === "Enter" && active >= 0 && items[active]) { e.preventDefault(); choose(items[active]); }
  }
  return (
    <form role="search" class="searchbox" onSubmit={(e) => { e.preventDefault(); setItems([]); onSubmit(text); }}>
      <label for="q" class="sr-only">Search the catalog</label>
      <div class="combo">
        <input id="q" name="q" type="search" {...({ role: "combobox" } as object)} aria-autocomplete="list"
          aria-expanded={items.length > 0} aria-controls="suggestions" autocomplete="off"
          aria-activedescendant={active >= 0 ? `sugg-${active}` : undefined}
          placeholder='Try "PII tables in snowflake owned by finance"' value={text}
          onInput={(e) => typed((e.target as HTMLInputElement).value)} onKeyDown={key} />
        {items.length > 0 && (
          <ul id="suggestions" role="listbox" class="suggestions">
            {items.map((s, i) => (
              <li id={`sugg-${i}`} role="option" aria-selected={i === active}
                onMouseDown={(e) => { e.preventDefault(); choose(s); }}>
                <strong>{s.text}</strong> <span class="muted">{s.filter ? "filter: " + Object.keys(s.filter)[0] : s.type}</span>
                {s.qualifiedName && <span class="muted small"> {s.qualifiedName}</span>}
              </li>
            ))}
          </ul>
        )}
      </div>
      <button type="submit">Search</button>
    </form>
  );
}

function short(v: unknown): string {
  return String(v ?? "").split("/").pop() ?? "";
}

function Why({ why }: { why: Record<string, any> }) {
  const parts: string[] = [];
  if (why.exact) parts.push("exact name");
  if (why.keyword) parts.push(`keyword rank ${why.keyword.rank}`);
  if (why.semantic) parts.push(`semantic rank ${why.semantic.rank}`);
  if (why.matched) parts.push("matched in " + (Array.isArray(why.matched) ? why.matched.join(", ") : Object.keys(why.matched).join(", ")));
  if (why.filters) parts.push("passes filters on " + Object.keys(why.filters).join(", "));
  if (why.graph) parts.push(why.graph.map((g: any) => `${g.filter} ${short(g.value)}${g.inferred ? " (inferred)" : ""}`).join(", "));

  return <p class="why small" data-testid="why">Why: {parts.join(" · ") || "listed"}</p>;
}

export function SearchPage() {
  const loc = useLocation();
  const params = loc.params;
  const q = params.get("q") ?? "";
  const mode = params.get("mode") ?? "hybrid";
  const nl = params.get("nl") !== "false";
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const p: Record<string, unknown> = { q, mode, nl, facets: FACETS.join(","), limit: 20 };
    for (const f of FACETS) if (params.getAll(f).length) p[f] = params.getAll(f);
    if (params.get("cursor")) p.cursor = params.get("cursor");
    setBusy(true);
    get<Result>("/api/v1/search", p).then((r) => { setResult(r); setError(""); })
      .catch((e) => setError(e instanceof ApiError ? e.message : String(e))).finally(() => setBusy(false));
  }, [loc.params.toString()]);
  const reading = result?.interpretation?.nl;
  const explicit = FACETS.flatMap((f) => params.getAll(f).map((v) => [f, v] as const));
  const labels: Record<string, string> = {};
  for (const vs of Object.values(result?.facets ?? {})) for (const v of vs) labels[v.value] = v.label;
  return (
    <main class="search">
      <h1 class="sr-only">Search</h1>
      <Autocomplete initial={q} onSubmit={(text) => navigate(with_(params, (p) => p.set("q", text)))} />
      <div class="options">
        <fieldset class="modes"><legend>Mode</legend>
          {MODES.map((m) => (
            <label><input type="radio" name="mode" value={m} checked={mode === m}
              onChange={() => navigate(with_(params, (p) => p.set("mode", m)))} /> {m}</label>
          ))}
        </fieldset>
        <label><input type="checkbox" checked={nl}
          onChange={() => navigate(with_(params, (p) => p.set("nl", nl ? "false" : "true")))} /> Read as natural language</label>
      </div>
      <div class="chips" role="group" aria-label="Active filters" data-testid="chips">
        {reading?.recognised.map((r) => (
          <span class="chip nl" data-filter={r.filter}>
            <span>{r.filter}: {r.label}</span>
            <button aria-label={`Remove ${r.filter} ${r.label} (from "${r.text}")`} onClick={() =>
              navigate(with_(params, (p) => p.set("q", (q.slice(0, r.start) + q.slice(r.end)).replace(/\s+/g, " ").trim())))}>×</button>
          </span>
        ))}
        {explicit.map(([f, v]) => (
          <span class="chip" data-filter={f}>
            <span>{f}: {labels[v] ?? v}</span>
            <button aria-label={`Remove ${f} ${labels[v] ?? v}`} onClick={() =>
              navigate(with_(params, (p) => { const rest = p.getAll(f).filter((x) => x !== v); p.delete(f); rest.forEach((x) => p.append(f, x)); }))}>×</button>
          </span>
        ))}
        {reading && reading.q && reading.q !== q && <span class="muted small">searching words: “{reading.q}”</span>}
        {reading?.note && <span class="muted small">{reading.note}</span>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="layout">
        <aside class="facets" aria-label="Facets">
          {result && FACETS.filter((f) => result.facets[f]?.length).map((f) => (
            <section><h2>{f}</h2><ul>
              {result.facets[f].slice(0, 8).map((v) => {
                const on = params.getAll(f).includes(v.value);
                return (<li><label><input type="checkbox" checked={on} onChange={() => navigate(with_(params, (p) => {
                  if (on) { const rest = p.getAll(f).filter((x) => x !== v.value); p.delete(f); rest.forEach((x) => p.append(f, x)); }
                  else p.append(f, v.value);
                }))} /> {v.label || v.value} <span class="muted">({v.count})</span></label></li>);
              })}
            </ul></section>
          ))}
        </aside>
        <section class="results" aria-live="polite" aria-busy={busy}>
          {result && <p class="muted" data-testid="total">{result.total} results ({result.mode}, {result.tookMs} ms)</p>}
          <ol class="hits">
            {result?.hits.map((h) => (
              <li class="hit" data-id={h.id}>
                <a href={assetHref(h.id)} class="hit-name">{h.why.highlights?.name ? <Highlighted html={h.why.highlights.name} /> : h.name}</a>
                {" "}<span class="badge">{Array.isArray(h.type) ? h.type.join(", ") : h.type}</span>
                {h.platform && <span class="muted small"> {h.platform}</span>}
                {h.qualifiedName && <div class="muted small mono">{h.qualifiedName}</div>}
                <p class="desc">{h.why.highlights?.description ? <Highlighted html={h.why.highlights.description} /> : h.description}</p>
                <Why why={h.why} />
              </li>
            ))}
          </ol>
          {result?.next && <a href={with_(params, (p) => p.set("cursor", result.next!))}>Next page</a>}
        </section>
      </div>
    </main>
  );
}
