// Governance: custom attributes (define after a dry run of their impact, then migrate), the
// ontology, classification rules and the SHACL validation report.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, Me, mayWrite, query, request } from "./api";
import { assetHref, navigate, useLocation } from "./router";

const TABS = [["attributes", "Custom attributes"], ["ontology", "Ontology"], ["rules", "Classification rules"],
  ["validation", "Validation report"]] as const;
const KINDS = ["string", "integer", "decimal", "boolean", "date", "dateTime", "iri", "enum", "reference"];

function Failure({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  const items = e instanceof ApiError ? (e.problem.errors ?? []) : [];
  return (<div class="error" role="alert"><p>{e instanceof ApiError ? e.message : String(error)}</p>
    {items.length > 0 && <ul>{items.map((x: any) => <li>{x.where ? x.where + ": " : ""}{x.message ?? JSON.stringify(x)}</li>)}</ul>}</div>);
}

function Attributes({ me }: { me: Me }) {
  const [items, setItems] = useState<any[]>([]);
  const [tick, setTick] = useState(0);
  const [form, setForm] = useState({ name: "", label: "", datatype: "string", appliesTo: "Table", values: "", pattern: "", required: false });
  const [impact, setImpact] = useState<any>(null);
  const [done, setDone] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [migration, setMigration] = useState("none");
  const [dflt, setDflt] = useState("");
  useEffect(() => { get("/api/v1/attributes").then((r) => setItems(r.items)).catch(setError); }, [tick]);
  function spec() {
    const s: Record<string, unknown> = { name: form.name.trim(), label: form.label.trim() || form.name.trim(),
      datatype: form.datatype, appliesTo: form.appliesTo.split(",").map((x) => x.trim()).filter(Boolean), required: form.required };
    if (form.values.trim()) s.values = form.values.split(",").map((x) => x.trim());
    if (form.pattern.trim()) s.pattern = form.pattern.trim();
    return s;
  }
  const exists = items.some((a) => a.name === form.name.trim());
  async function run(dryRun: boolean) {
    setError(null); setDone("");
    const path = exists ? `/api/v1/attributes/${encodeURIComponent(form.name.trim())}` : "/api/v1/attributes";
    const params = dryRun ? { dryRun: true } : { force: impact?.affectedAssets > 0 ? true : undefined,
      migration: impact?.affectedAssets > 0 ? migration : undefined, default: migration === "default" ? dflt : undefined };
    try {
      const r = await request(exists ? "PUT" : "POST", path + query(params), spec());
      if (dryRun) setImpact(r.body);
      else { setImpact(null); setDone(`Defined ${form.name}; ${r.body.migrated?.affectedAssets ?? 0} assets migrated.`); setTick(tick + 1); }
    } catch (e) { setError(e); }
  }
  const upd = (k: string) => (e: Event) => { setImpact(null); setForm({ ...form, [k]: (e.target as HTMLInputElement).type === "checkbox" ? (e.target as HTMLInputElement).checked : (e.target as HTMLInputElement).value }); };
  return (
    <section>
      <table class="grid" data-testid="attribute-list"><thead><tr><th>Name</th><th>Label</th><th>Type</th><th>Applies to</th><th>Rules</th></tr></thead>
        <tbody>{items.length === 0 && <tr><td colSpan={5} class="muted">No custom attributes yet.</td></tr>}{items.map((a) => (<tr><td class="mono">{a.name}</td><td>{a.label}</td><td>{a.datatype}</td><td>{(a.appliesTo ?? []).join(", ")}</td>
          <td class="small">{[a.required && "required", a.pattern && `pattern ${a.pattern}`, a.values && `one of ${a.values.join(", ")}`].filter(Boolean).join("; ")}</td></tr>))}</tbody></table>
      {mayWrite(me) && (
        <form class="stack" onSubmit={(e) => { e.preventDefault(); run(true); }} aria-labelledby="h-define">
          <h2 id="h-define">Define or change an attribute</h2>
          <label>Name (JSON key) <input name="name" value={form.name} onInput={upd("name")} required pattern="[a-z][A-Za-z0-9_]{1,62}" /></label>
          <label>Label <input name="label" value={form.label} onInput={upd("label")} /></label>
          <label>Datatype <select name="datatype" value={form.datatype} onChange={upd("datatype")}>{KINDS.map((k) => <option>{k}</option>)}</select></label>
          <label>Applies to (class names, comma-separated) <input name="appliesTo" value={form.appliesTo} onInput={upd("appliesTo")} /></label>
          <label>Allowed values (comma-separated, optional) <input name="values" value={form.values} onInput={upd("values")} /></label>
          <label>Pattern (regex, optional) <input name="pattern" value={form.pattern} onInput={upd("pattern")} /></label>
          <label class="check"><input type="checkbox" name="required" checked={form.required} onChange={upd("required")} /> Required</label>
          <p><button type="submit">Dry run</button></p>
          {impact && (
            <div class="impact" data-testid="impact">
              <p><strong>{impact.affectedAssets}</strong> existing assets would violate this definition.</p>
              <ul>{(impact.affected ?? []).slice(0, 20).map((x: any) => <li><a href={assetHref(x.id ?? x.asset)}>{x.id ?? x.asset}</a> {x.message ?? x.reason ?? ""}</li>)}</ul>
              {impact.affectedAssets > 0 && (<p>
                <label>Migration <select value={migration} onChange={(e) => setMigration((e.target as HTMLSelectElement).value)}>
                  <option value="none">none: keep the values</option><option value="drop-invalid">drop-invalid: remove offending values</option>
                  <option value="default">default: set a default</option></select></label>
                {migration === "default" && <label> Default <input value={dflt} onInput={(e) => setDflt((e.target as HTMLInputElement).value)} /></label>}
              </p>)}
              <button type="button" onClick={() => run(false)}>{impact.affectedAssets > 0 ? "Apply and migrate" : "Apply"}</button>
            </div>
          )}
          {done && <p class="ok" role="status">{done}</p>}
          <Failure error={error} />
        </form>
      )}
    </section>
  );
}

function Ontology() {
  const [data, setData] = useState<any>(null);
  const [filter, setFilter] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [terms, setTerms] = useState<any[]>([]);
  useEffect(() => {
    get("/api/v1/ontology").then(setData).catch(setError);
    get("/api/v1/assets", { type: "GlossaryTerm", limit: 200 }).then((r) => setTerms(r.items ?? [])).catch(() => setTerms([]));
  }, []);
  const match = (x: any) => !filter || JSON.stringify(x).toLowerCase().includes(filter.toLowerCase());
  const show = (title: string, rows: any[]) => (
    <section><h2>{title} ({rows.length})</h2><table class="grid"><tbody>{rows.filter(match).map((c: any) => (
      <tr><td class="mono">{c.name ?? c.id ?? c.iri}</td><td>{c.label}</td><td class="small">{c.comment ?? c.description ?? ""}{c.deprecated ? " (deprecated)" : ""}</td></tr>))}</tbody></table></section>);
  return (<section><Failure error={error} />
    <label>Filter <input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} /></label>
    {data && show("Classes", data.classes ?? [])}
    {data && show("Properties", data.properties ?? [])}
    <section><h2>Glossary ({terms.length})</h2><ul>{terms.filter(match).map((t) => <li><a href={assetHref(t.id)}>{t.name}</a> <span class="small muted">{t.description}</span></li>)}</ul></section>
  </section>);
}

function Rules() {
  const [items, setItems] = useState<any[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { get("/api/v1/rules").then((r) => setItems(r.items ?? r.rules ?? [])).catch(setError); }, []);
  return (<section><Failure error={error} />
    {items && <table class="grid"><thead><tr><th>Rule</th><th>Classification</th><th>Concludes</th><th>Query</th></tr></thead>
      <tbody>{items.map((r) => <tr><td>{r.name ?? r.id}</td><td>{r.classification ?? ""}</td><td>{r.conclusions ?? r.count ?? ""}</td><td><pre class="small">{r.sparql ?? r.construct ?? r.query ?? ""}</pre></td></tr>)}</tbody></table>}
  </section>);
}

function Validation() {
  const [report, setReport] = useState<any>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  function run() { setBusy(true); get("/api/v1/validate").then(setReport).catch(setError).finally(() => setBusy(false)); }
  const results: any[] = report?.results ?? report?.errors ?? report?.report ?? [];
  return (<section><button onClick={run} disabled={busy}>{busy ? "Validating…" : "Validate the catalog now"}</button><Failure error={error} />
    {report && <div data-testid="validation"><p>{report.conforms ? "The catalog conforms to its shapes." : `${results.length} results.`}</p>
      <table class="grid"><tbody>{results.slice(0, 200).map((x) => <tr><td>{x.severity}</td><td class="mono small">{x.focusNode ?? x.item}</td><td class="mono small">{x.path}</td><td>{x.message}</td></tr>)}</tbody></table></div>}
  </section>);
}

export default function GovernancePage({ me }: { me: Me }) {
  const loc = useLocation();
  const tab = loc.params.get("tab") ?? "attributes";
  return (
    <main class="governance">
      <h1>Governance</h1>
      <div role="tablist" class="tabs">{TABS.map(([id, label]) => (
        <button role="tab" aria-selected={tab === id} onClick={() => navigate(`/ui/governance?tab=${id}`)}>{label}</button>))}</div>
      {tab === "attributes" && <Attributes me={me} />}
      {tab === "ontology" && <Ontology />}
      {tab === "rules" && <Rules />}
      {tab === "validation" && <Validation />}
    </main>
  );
}
