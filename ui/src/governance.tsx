// Governance: custom attributes (define after a dry run of their impact, then migrate), the
// ontology (./ontology), classification rules and the SHACL validation report.
import { useEffect, useState } from "preact/hooks";
import { get, Me, mayWrite, query, request } from "./api";
import { Failure, useLatest } from "./forms";
import Ontology from "./ontology";
import { assetHref, navigate, useLocation } from "./router";

const TABS = [["attributes", "Custom attributes"], ["ontology", "Ontology"], ["rules", "Classification rules"],
  ["validation", "Validation report"]] as const;
const KINDS = ["string", "integer", "decimal", "boolean", "date", "dateTime", "iri", "enum", "reference"];

function Attributes({ me }: { me: Me }) {
  const [items, setItems] = useState<any[]>([]);
  const [tick, setTick] = useState(0);
  const [form, setForm] = useState({ name: "", label: "", datatype: "string", appliesTo: "Table", values: "", pattern: "", required: false });
  const [impact, setImpact] = useState<any>(null);
  const [done, setDone] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [migration, setMigration] = useState("none");
  const [dflt, setDflt] = useState("");
  useLatest(() => get("/api/v1/attributes"), (r) => setItems(r.items), setError, [tick]);
  // a definition being changed: the fields this form does not show (description, counts,
  // bounds, severity) are sent back as they were, so changing a pattern keeps them
  const [base, setBase] = useState<Record<string, any> | null>(null);
  function spec() {
    const { id: _id, retired: _retired, ...kept } = base && base.name === form.name.trim() ? base : ({} as Record<string, any>);
    const s: Record<string, unknown> = { ...kept, name: form.name.trim(), label: form.label.trim() || form.name.trim(),
      datatype: form.datatype, appliesTo: form.appliesTo.split(",").map((x) => x.trim()).filter(Boolean), required: form.required };
    if (kept.minCount !== undefined) s.minCount = form.required ? Math.max(1, kept.minCount) : 0;
    delete s.values; delete s.pattern;
    if (form.values.trim()) s.values = form.values.split(",").map((x) => x.trim());
    if (form.pattern.trim()) s.pattern = form.pattern.trim();
    return s;
  }
  function change(a: any) {
    setBase(a); setImpact(null); setError(null); setDone(""); setMigration("none");
    setForm({ name: a.name, label: a.label ?? "", datatype: a.datatype, appliesTo: (a.appliesTo ?? []).join(", "),
      values: (a.values ?? []).join(", "), pattern: a.pattern ?? "", required: (a.minCount ?? 0) > 0 });
    document.getElementById("h-define")?.scrollIntoView();
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
      else {
        const n = r.body.migrated?.affectedAssets ?? 0;
        setImpact(null); setBase(r.body); setTick(tick + 1);
        setDone(`Defined ${form.name}; ${n} assets migrated${n ? ` (${params.migration === "drop-invalid" ? "offending values removed"
          : params.migration === "default" ? `set to ${dflt}` : "values kept as they were"})` : ""}.`);
      }
    } catch (e) { setError(e); }
  }
  const upd = (k: string) => (e: Event) => { setImpact(null); setForm({ ...form, [k]: (e.target as HTMLInputElement).type === "checkbox" ? (e.target as HTMLInputElement).checked : (e.target as HTMLInputElement).value }); };
  return (
    <section>
      <table class="grid" data-testid="attribute-list"><thead><tr><th>Name</th><th>Label</th><th>Type</th><th>Applies to</th><th>Rules</th>{mayWrite(me) && <th><span class="sr-only">Actions</span></th>}</tr></thead>
        <tbody>{items.length === 0 && <tr><td colSpan={5} class="muted">No custom attributes yet.</td></tr>}{items.map((a) => (<tr><td class="mono">{a.name}</td><td>{a.label}</td><td>{a.datatype}</td><td>{(a.appliesTo ?? []).join(", ")}</td>
          <td class="small">{[a.required && "required", a.pattern && `pattern ${a.pattern}`, a.values && `one of ${a.values.join(", ")}`].filter(Boolean).join("; ")}</td>
          {mayWrite(me) && <td><button class="link" onClick={() => change(a)}>Change<span class="sr-only"> {a.name}</span></button></td>}</tr>))}</tbody></table>
      {!mayWrite(me) && <p class="note" role="note" data-testid="read-only">You can read the attribute definitions. Defining or
        changing them needs the manage-attributes permission (the steward or governance-admin role); ask an admin.</p>}
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
              {impact.affectedAssets > 20 && <p class="small muted">The first 20 of them:</p>}
              <ul>{(impact.affected ?? []).slice(0, 20).map((x: any) => <li><a href={assetHref(x.id ?? x.asset)}>{x.id ?? x.asset}</a>: {(x.problems ?? []).map((p: any) => p.message).join("; ") || x.message || ""}</li>)}</ul>
              {impact.affectedAssets > 0 && (<p>
                <label>Migration of the assets that would violate it <select value={migration} onChange={(e) => setMigration((e.target as HTMLSelectElement).value)}>
                  <option value="none">none: keep their values (they stay invalid until fixed)</option>
                  <option value="drop-invalid">drop-invalid: remove the offending values</option>
                  <option value="default">default: set a default value where none is valid</option></select></label>
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
      {tab === "ontology" && <Ontology me={me} />}
      {tab === "rules" && <Rules />}
      {tab === "validation" && <Validation />}
    </main>
  );
}
