// The asset page: what it is, its schema, who owns it, why it is classified, how it changed,
// and inline editing of custom attributes for callers who may write (the server validates).
import { useEffect, useState } from "preact/hooks";
import { ApiError, enc, get, Me, mayWrite, request } from "./api";
import { assetHref } from "./router";

type Doc = Record<string, any>;
interface Attribute { name: string; label: string; description?: string; datatype: string; appliesTo: string[]; values?: unknown[] | null; pattern?: string | null }

const SHOWN = new Set(["@context", "id", "@id", "type", "@type", "name", "description", "qualifiedName",
  "owners", "tags", "classifications", "terms", "version", "createdAt", "createdBy", "updatedAt",
  "updatedBy", "columns", "hasColumn", "partOf", "platform", "workspace"]);

function list(v: unknown): any[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

function idOf(v: any): string {
  return typeof v === "string" ? v : v?.id ?? v?.["@id"] ?? JSON.stringify(v);
}

function Ref({ v }: { v: any }) {
  const id = idOf(v);
  return <a href={assetHref(id)}>{typeof v === "object" && v?.name ? v.name : id}</a>;
}

function Refs({ items }: { items: unknown }) {
  const xs = list(items);
  if (!xs.length) return <span class="muted">none</span>;
  return <>{xs.map((x, i) => <>{i > 0 && ", "}<Ref v={x} /></>)}</>;
}

function AttributeField({ assetKey, attr, value, etag, editable, onSaved }: {
  assetKey: string; attr: Attribute; value: unknown; etag: string | null; editable: boolean;
  onSaved: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(value === undefined || value === null ? "" : String(value));
  const [errors, setErrors] = useState<string[]>([]);
  const id = `attr-${attr.name}`;
  async function save(e: Event) {
    e.preventDefault();
    let v: unknown = text;
    if (text === "") v = null;
    else if (attr.datatype === "integer" || attr.datatype === "decimal") v = Number.isNaN(Number(text)) ? text : Number(text);
    else if (attr.datatype === "boolean") v = text === "true" ? true : text === "false" ? false : text;
    try {
      await request("PATCH", `/api/v1/assets/${enc(assetKey)}`, { [attr.name]: v },
        { "Content-Type": "application/merge-patch+json", ...(etag ? { "If-Match": etag } : {}) });
      setErrors([]); setEditing(false); onSaved();
    } catch (err) {
      if (err instanceof ApiError) {
        const found = (err.problem.errors ?? []).map((x: any) => x.message ?? x.detail ?? JSON.stringify(x));
        setErrors(found.length ? found : [err.message]);
      } else setErrors([String(err)]);
    }
  }
  return (
    <div class="field" data-attribute={attr.name}>
      <dt><label for={id}>{attr.label}</label> <span class="muted small">({attr.name}, {attr.datatype})</span></dt>
      <dd>
        {editing ? (
          <form onSubmit={save} class="inline">
            {attr.values?.length ? (
              <select id={id} value={text} onChange={(e) => setText((e.target as HTMLSelectElement).value)}
                aria-invalid={errors.length > 0} aria-describedby={errors.length ? id + "-err" : undefined}>
                <option value="">(none)</option>
                {attr.values.map((x) => <option value={String(x)}>{String(x)}</option>)}
              </select>
            ) : (
              <input id={id} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)}
                aria-invalid={errors.length > 0} aria-describedby={errors.length ? id + "-err" : undefined} />
            )}
            <button type="submit">Save</button>
            <button type="button" class="link" onClick={() => { setEditing(false); setErrors([]); }}>Cancel</button>
            {errors.length > 0 && <ul id={id + "-err"} class="error field-error" role="alert">{errors.map((m) => <li>{m}</li>)}</ul>}
          </form>
        ) : (
          <>
            <span class="value">{value === undefined || value === null ? <span class="muted">not set</span> : String(value)}</span>
            {editable && <button class="link" aria-label={`Edit ${attr.label}`} onClick={() => setEditing(true)}>Edit</button>}
          </>
        )}
      </dd>
    </div>
  );
}

function Explanations({ assetKey }: { assetKey: string }) {
  const [items, setItems] = useState<any[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    get(`/api/v1/assets/${enc(assetKey)}/explain`, { predicate: "semcat:classification" })
      .then((r) => setItems(r.explanations)).catch((e) => setError(String(e.message ?? e)));
  }, [assetKey]);
  if (error) return <p class="error">{error}</p>;
  if (!items) return <p class="muted">Loading explanations…</p>;
  if (!items.length) return <p class="muted">No inferred classifications: what is shown is asserted.</p>;
  return <ul class="explain">{items.map((x) => <li><ExplainNode x={x} /></li>)}</ul>;
}

function ExplainNode({ x }: { x: any }) {
  const st = x.statement ?? x;
  const text = typeof st === "string" ? st : [st.subject, st.predicate, st.object].filter(Boolean).map(short).join(" ");
  const premises = list(x.premises ?? x.because);
  return (
    <details>
      <summary>{text} <span class="muted small">— {x.asserted ? "asserted" : shortAll(String(x.rule ?? ""))}</span></summary>
      {premises.length > 0 && <ul>{premises.map((p) => <li><ExplainNode x={p} /></li>)}</ul>}
    </details>
  );
}

function short(iri: unknown): string {
  const s = typeof iri === "string" ? iri : JSON.stringify(iri);
  const i = s.indexOf("/id/");
  return i >= 0 ? s.slice(i + 4) : s.replace("https://w3id.org/semcat#", "semcat:");
}

function shortAll(text: string): string {
  return text.replace(/\S+\/id\/(\S+)/g, "$1");
}

function History({ assetKey }: { assetKey: string }) {
  const [versions, setVersions] = useState<any[]>([]);
  const [diff, setDiff] = useState<any>(null);
  useEffect(() => {
    get(`/api/v1/assets/${enc(assetKey)}/versions`).then((r) => setVersions(r.versions)).catch(() => setVersions([]));
  }, [assetKey]);
  async function show(v: number) {
    setDiff(await get(`/api/v1/assets/${enc(assetKey)}/diff`, { from: Math.max(1, v - 1), to: v }));
  }
  return (
    <div>
      <table class="grid"><thead><tr><th>Version</th><th>When</th><th>Who</th><th>Change</th><th></th></tr></thead>
        <tbody>{versions.slice().reverse().map((v) => (
          <tr><td>{v.version}</td><td>{v.time}</td><td>{v.actor}</td><td>{v.message}</td>
            <td>{v.version > 1 && <button class="link" onClick={() => show(v.version)}>Diff with {v.version - 1}</button>}</td></tr>
        ))}</tbody></table>
      {diff && (
        <div class="diff" data-testid="diff"><h3>Version {diff.from} → {diff.to}</h3>
          <ul>{Object.entries(diff.removed ?? {}).map(([k, v]) => <li class="del">− {k}: {fmt(v)}</li>)}
            {Object.entries(diff.added ?? {}).map(([k, v]) => <li class="add">+ {k}: {fmt(v)}</li>)}</ul>
        </div>
      )}
    </div>
  );
}

function fmt(t: unknown): string {
  return typeof t === "string" ? t : JSON.stringify(t);
}

export function AssetPage({ assetKey, me }: { assetKey: string; me: Me }) {
  const [doc, setDoc] = useState<Doc | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [attrs, setAttrs] = useState<Attribute[]>([]);
  const [columns, setColumns] = useState<Doc[]>([]);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    request("GET", `/api/v1/assets/${enc(assetKey)}`).then((r) => { setDoc(r.body); setEtag(r.etag); setError(""); })
      .catch((e) => setError(e instanceof ApiError && e.status === 404 ? `No asset ${assetKey} that you may read.` : String(e.message ?? e)));
    get("/api/v1/attributes").then((r) => setAttrs(r.items ?? r.attributes ?? [])).catch(() => setAttrs([]));
  }, [assetKey, tick]);
  useEffect(() => {
    get("/api/v1/assets", { partOf: assetKey, type: "Column", limit: 500 }).then((r) => setColumns((r.items ?? []).sort((a: Doc, b: Doc) => (a.position ?? 0) - (b.position ?? 0))))
      .catch(() => setColumns([]));
  }, [assetKey]);
  if (error) return <main><h1>Asset</h1><p class="error" role="alert">{error}</p></main>;
  if (!doc) return <main><p>Loading…</p></main>;
  const types = list(doc.type);
  const applicable = attrs.filter((a) => a.appliesTo.some((c) => types.includes(c)) || doc[a.name] !== undefined);
  const other = Object.keys(doc).filter((k) => !SHOWN.has(k) && !attrs.some((a) => a.name === k));
  return (
    <main class="asset">
      <p class="muted small">{types.join(", ")} · {doc.platform && <Ref v={doc.platform} />} · workspace {idOf(doc.workspace)}</p>
      <h1>{doc.name ?? assetKey}</h1>
      {doc.qualifiedName && <p class="mono small">{doc.qualifiedName}</p>}
      <p>{doc.description ?? <span class="muted">No description.</span>}</p>
      <p><a href={`/ui/lineage?asset=${encodeURIComponent(assetKey)}`}>Lineage graph</a> · <a href={`/api/v1/assets/${enc(assetKey)}`}>JSON-LD</a></p>
      <dl class="facts">
        <dt>Owners</dt><dd data-testid="owners"><Refs items={doc.owners} /></dd>
        <dt>Tags</dt><dd><Refs items={doc.tags} /></dd>
        <dt>Classifications</dt><dd data-testid="classifications"><Refs items={doc.classifications} /></dd>
        <dt>Glossary terms</dt><dd><Refs items={doc.terms} /></dd>
        {doc.partOf && <><dt>Part of</dt><dd><Refs items={doc.partOf} /></dd></>}
        <dt>Version</dt><dd>{doc.version} (updated {doc.updatedAt} by {doc.updatedBy})</dd>
        {other.map((k) => <><dt>{k}</dt><dd>{list(doc[k]).map((v) => typeof v === "object" ? <Ref v={v} /> : String(v)).map((x, i) => <>{i > 0 && ", "}{x}</>)}</dd></>)}
      </dl>
      <section aria-labelledby="h-attrs"><h2 id="h-attrs">Custom attributes</h2>
        {applicable.length ? <dl class="attrs">{applicable.map((a) => (
          <AttributeField key={a.name + tick} assetKey={assetKey} attr={a} value={doc[a.name]} etag={etag}
            editable={mayWrite(me)} onSaved={() => setTick(tick + 1)} />
        ))}</dl> : <p class="muted">No custom attribute applies to {types.join(", ")}.</p>}
      </section>
      {columns.length > 0 && (
        <section aria-labelledby="h-cols"><h2 id="h-cols">Columns</h2>
          <table class="grid" data-testid="columns"><thead><tr><th>Name</th><th>Type</th><th>Classifications</th><th>Glossary terms</th><th>Attributes</th><th>Description</th></tr></thead>
            <tbody>{columns.map((c) => (
              <tr><td><a href={assetHref(c.id)}>{c.name}</a></td><td class="mono">{c.dataType}</td>
                <td><Refs items={c.classifications} /></td><td><Refs items={c.terms} /></td>
                <td>{attrs.filter((a) => c[a.name] !== undefined).map((a) => `${a.name}=${c[a.name]}`).join(", ")}</td>
                <td>{c.description}</td></tr>
            ))}</tbody></table>
        </section>
      )}
      <section aria-labelledby="h-why"><h2 id="h-why">Why it is classified</h2><Explanations assetKey={assetKey} /></section>
      <section aria-labelledby="h-hist"><h2 id="h-hist">History</h2><History key={doc.version} assetKey={assetKey} /></section>
    </main>
  );
}
