// The ontology: browse classes, properties, the glossary and classification schemes; add to
// them and deprecate terms through /api/v1/ontology (each edit is checked by the DL reasoner and
// the shapes, and a refusal is shown in words at the form); and read the ontology's history.
import { useState } from "preact/hooks";
import { get, Me, request } from "./api";
import { curie, EditForm, Failure, FieldSpec, initialValues, listAll, useLatest, Values, words } from "./forms";
import { assetHref } from "./router";

export function mayGovern(me: Me): boolean {
  return me.admin || me.grants.some((g) => g.role === "governance-admin");
}

const CLASS: FieldSpec[] = [
  { name: "name", label: "Name", required: true, hint: "UpperCamelCase, e.g. FactTable" },
  { name: "label", label: "Label", required: true },
  { name: "comment", label: "Comment", kind: "textarea" },
  { name: "parent", label: "Subclass of", required: true, list: "onto-classes", initial: "DataAsset" },
  { name: "disjointWith", label: "Disjoint with (comma-separated classes)" },
];
const PROPERTY: FieldSpec[] = [
  { name: "name", label: "Name", required: true, hint: "lowerCamelCase, e.g. retentionDays" },
  { name: "label", label: "Label", required: true },
  { name: "comment", label: "Comment", kind: "textarea" },
  { name: "kind", label: "Kind", kind: "select", options: [["datatype", "datatype: a value"], ["object", "object: a link to another asset"]] },
  { name: "domain", label: "Domain (a class)", list: "onto-classes" },
  { name: "range", label: "Range (a class, or a datatype such as string, integer)" },
  { name: "parent", label: "Subproperty of", list: "onto-properties" },
];
const TERM: FieldSpec[] = [
  { name: "name", label: "Term", required: true },
  { name: "definition", label: "Definition", kind: "textarea", required: true },
  { name: "glossary", label: "Glossary", initial: "glossary/business", list: "onto-glossaries" },
  { name: "slug", label: "Slug (optional; defaults to the term, lower-cased)" },
];
const SCHEME: FieldSpec[] = [
  { name: "slug", label: "Slug", required: true, hint: "e.g. retention: the scheme becomes classification/retention" },
  { name: "name", label: "Name", required: true },
  { name: "description", label: "Description", kind: "textarea", required: true },
  { name: "values", label: "Values, one a line: slug, name, description", kind: "textarea" },
];
const DEPRECATE: FieldSpec[] = [
  { name: "term", label: "Term to deprecate", required: true, list: "onto-terms",
    hint: "A class or property (local:X, semcat:Table), or the id of a glossary term or classification" },
  { name: "replacedBy", label: "Replaced by (optional)", list: "onto-terms" },
];

function opt(v: string | boolean): string | undefined {
  const s = String(v).trim();
  return s ? s : undefined;
}

type Kind = "class" | "property" | "term" | "scheme" | "deprecate";

function Editor({ data, onChanged }: { data: any; onChanged: () => void }) {
  const [kind, setKind] = useState<Kind>("class");
  const specs: Record<Kind, [string, FieldSpec[], string]> = {
    class: ["Add a class", CLASS, "Add class"], property: ["Add a property", PROPERTY, "Add property"],
    term: ["Add a glossary term", TERM, "Add term"], scheme: ["Add a classification scheme", SCHEME, "Add scheme"],
    deprecate: ["Deprecate a term", DEPRECATE, "Deprecate"],
  };
  const [title, fields, submit] = specs[kind];
  const [values, setValues] = useState<Values>(initialValues(CLASS));
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  function choose(k: Kind) { setKind(k); setValues(initialValues(specs[k][1])); setError(null); setDone(""); }
  async function send() {
    setError(null); setDone("");
    const v = values;
    try {
      if (kind === "class") {
        const r = await request("POST", "/api/v1/ontology/classes", { name: String(v.name).trim(), label: String(v.label).trim(),
          comment: String(v.comment), parent: String(v.parent).trim(), disjointWith: words(v.disjointWith) });
        setDone(`Added class ${curie(r.body.term)} (ontology version ${r.body.version}).`);
      } else if (kind === "property") {
        const r = await request("POST", "/api/v1/ontology/properties", { name: String(v.name).trim(), label: String(v.label).trim(),
          comment: String(v.comment), kind: v.kind, domain: opt(v.domain), range: opt(v.range), parent: opt(v.parent) });
        setDone(`Added property ${curie(r.body.term)} (ontology version ${r.body.version}).`);
      } else if (kind === "term") {
        const r = await request("POST", "/api/v1/ontology/glossary-terms", { name: String(v.name).trim(),
          definition: String(v.definition).trim(), glossary: opt(v.glossary) ?? "glossary/business", slug: opt(v.slug) });
        setDone(`Added glossary term ${r.body.id}.`);
      } else if (kind === "scheme") {
        const values = String(v.values).split("\n").map((l) => l.split(",").map((x) => x.trim())).filter((p) => p[0])
          .map(([slug, name, ...rest]) => ({ slug, name: name || slug, description: rest.join(", ") }));
        const r = await request("POST", "/api/v1/ontology/classification-schemes", { slug: String(v.slug).trim(),
          name: String(v.name).trim(), description: String(v.description).trim(), values });
        setDone(`Added ${r.body.items.map((i: any) => i.id).join(", ")}.`);
      } else {
        await request("POST", "/api/v1/ontology/deprecations", { term: String(v.term).trim(), replacedBy: opt(v.replacedBy) });
        setDone(`Deprecated ${String(v.term).trim()}; it stays in the ontology, marked deprecated.`);
      }
      setValues(initialValues(fields));
      onChanged();
    } catch (e) { setError(e); }
  }
  const terms = [...(data?.classes ?? []), ...(data?.properties ?? [])].map((t: any) => curie(t.iri));
  return (<section class="editor" aria-labelledby="h-edit">
    <h2 id="h-edit">Change the ontology</h2>
    <p class="small muted">Every edit is checked by the OWL reasoner and the shapes before it is written; a refused edit changes nothing.</p>
    <label>What to do <select value={kind} onChange={(e) => choose((e.target as HTMLSelectElement).value as Kind)}>
      {(Object.keys(specs) as Kind[]).map((k) => <option value={k}>{specs[k][0]}</option>)}</select></label>
    <datalist id="onto-classes">{(data?.classes ?? []).map((c: any) => <option value={curie(c.iri)} />)}</datalist>
    <datalist id="onto-properties">{(data?.properties ?? []).map((c: any) => <option value={curie(c.iri)} />)}</datalist>
    <datalist id="onto-terms">{terms.map((t) => <option value={t} />)}</datalist>
    <datalist id="onto-glossaries"><option value="glossary/business" /></datalist>
    <EditForm key={kind} id={"onto-" + kind} title={title} fields={fields} values={values} onChange={setValues}
      onSubmit={send} submit={submit} error={error} done={done} />
  </section>);
}

function History({ tick }: { tick: number }) {
  const [hist, setHist] = useState<any>(null);
  const [diff, setDiff] = useState<{ seq: number; added: string[]; removed: string[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useLatest(() => get("/api/v1/ontology/history"), setHist, setError, [tick]);
  async function show(seq: number) {
    try { const d = await get("/api/v1/ontology/diff", { from: seq - 1, to: seq }); setDiff({ seq, added: d.added ?? [], removed: d.removed ?? [] }); }
    catch (e) { setError(e); }
  }
  const changes: any[] = [...(hist?.changes ?? [])].reverse();
  return (<section aria-labelledby="h-history"><h2 id="h-history">History {hist && <span class="muted small">(version {hist.version})</span>}</h2>
    <Failure error={error} />
    <div class="history-scroll"><table class="grid" data-testid="ontology-history"><thead><tr><th>Seq</th><th>Time</th><th>Who</th><th>Change</th><th>Version</th><th>Triples</th></tr></thead>
      <tbody>{changes.map((c) => <tr><td>{c.seq}</td><td class="small">{String(c.time).replace("T", " ").slice(0, 16)}</td><td>{c.actor}</td><td>{c.message}</td><td class="mono small">{c.version}</td>
        <td class="small">+{c.added} −{c.removed} {c.seq > 1 && <button class="link" onClick={() => show(c.seq)}>Show<span class="sr-only"> the triples of change {c.seq}</span></button>}</td></tr>)}</tbody></table></div>
    {diff && <div class="diff" data-testid="ontology-diff"><h3>Change {diff.seq}</h3><ul>
      {diff.added.map((t) => <li class="add">+ {t}</li>)}{diff.removed.map((t) => <li class="del">− {t}</li>)}</ul></div>}
  </section>);
}

export default function Ontology({ me }: { me: Me }) {
  const [data, setData] = useState<any>(null);
  const [terms, setTerms] = useState<any[]>([]);
  const [schemes, setSchemes] = useState<any[]>([]);
  const [filter, setFilter] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useLatest(() => Promise.all([get("/api/v1/ontology"),
    listAll({ type: "GlossaryTerm" }).catch(() => []), listAll({ type: "ClassificationScheme" }).catch(() => [])]),
  ([o, t, c]) => { setData(o); setTerms(t); setSchemes(c); }, setError, [tick]);
  const match = (x: any) => !filter || JSON.stringify(x).toLowerCase().includes(filter.toLowerCase());
  const flags = (c: any) => [c.custom && "custom", c.deprecated && "deprecated"].filter(Boolean).map((f) => <span class={"badge " + f}> {f}</span>);
  const classes = (data?.classes ?? []).filter(match);
  const props = (data?.properties ?? []).filter(match);
  return (<section class="ontology">
    <Failure error={error} />
    {data && <p class="muted small">Ontology version <span class="mono">{data.version}</span>; also as a <a href="/ontology">document</a> and in <a href="/ontology?format=ttl">Turtle</a>.</p>}
    <div class="two-col">
      {mayGovern(me) ? <Editor data={data} onChanged={() => setTick((t) => t + 1)} />
        : <p class="note" role="note" data-testid="read-only">You can browse the ontology. Changing it needs the manage-ontology permission (the governance-admin role); ask an admin.</p>}
      <History tick={tick} />
    </div>
    <p><label>Filter <input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} /></label></p>
    {data && <section aria-labelledby="h-classes"><h2 id="h-classes">Classes ({classes.length})</h2>
      <table class="grid" data-testid="classes"><thead><tr><th>Class</th><th>Label</th><th>Subclass of</th><th>Comment</th></tr></thead>
        <tbody>{classes.map((c: any) => <tr data-term={curie(c.iri)}><td class="mono">{curie(c.iri)}{flags(c)}</td><td>{c.label}</td>
          <td class="mono small">{(c.parents ?? []).map(curie).join(", ")}{c.disjointWith?.length ? <span class="muted"> disjoint with {c.disjointWith.map(curie).join(", ")}</span> : null}</td>
          <td class="small">{c.comment}{c.replacedBy ? ` Replaced by ${curie(c.replacedBy)}.` : ""}</td></tr>)}</tbody></table></section>}
    {data && <details class="props"><summary><h2 id="h-props">Properties ({props.length})</h2></summary>
      <table class="grid" data-testid="properties"><thead><tr><th>Property</th><th>Kind</th><th>Domain → range</th><th>Comment</th></tr></thead>
        <tbody>{props.map((c: any) => <tr data-term={curie(c.iri)}><td class="mono">{curie(c.iri)}{flags(c)}</td><td>{c.kind}</td>
          <td class="mono small">{(c.domain ?? []).map(curie).join(", ") || "any"} → {(c.range ?? []).map(curie).join(", ") || "any"}</td>
          <td class="small">{c.comment}</td></tr>)}</tbody></table></details>}
    <section aria-labelledby="h-glossary"><h2 id="h-glossary">Glossary ({terms.filter(match).length})</h2>
      <ul data-testid="glossary">{terms.filter(match).map((t) => <li><a href={assetHref(t.id)}>{t.name}</a>{t.status === "deprecated" || t.deprecated ? <span class="badge deprecated"> deprecated</span> : null} <span class="small muted">{t.description}</span></li>)}</ul></section>
    <section aria-labelledby="h-schemes"><h2 id="h-schemes">Classification schemes ({schemes.filter(match).length})</h2>
      <ul data-testid="schemes">{schemes.filter(match).map((t) => <li><a href={assetHref(t.id)}>{t.name}</a> <span class="mono small">{t.id}</span> <span class="small muted">{t.description}</span></li>)}</ul></section>
  </section>);
}
