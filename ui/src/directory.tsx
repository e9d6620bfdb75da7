// Admin: the people and rules that decide access (users, teams, roles and access policies) are
// assets like any other, so they are listed, created (POST) and changed (PATCH with If-Match,
// so an edit made meanwhile is not overwritten) through /api/v1/assets.
import { useState } from "preact/hooks";
import { enc, request } from "./api";
import { EditForm, FieldSpec, initialValues, listAll, useLatest, Values, words } from "./forms";

const PERMISSIONS = ["read", "write", "delete", "manage-attributes", "manage-ontology", "manage-rules",
  "manage-access", "run-ingestion"];

interface Kind {
  type: string;
  title: string;
  prefix: string;
  fields: FieldSpec[];
  lists: string[];  // fields holding several values
  refPrefix?: Record<string, string>;  // a field whose bare words get an id prefix
  columns: [string, (x: any) => string][];
}

const list = (v: unknown) => (Array.isArray(v) ? v.join(", ") : v ? String(v) : "");

const KINDS: Kind[] = [
  { type: "User", title: "Users", prefix: "user/", lists: ["memberOf", "hasRole"],
    fields: [{ name: "id", label: "Id", required: true, hint: "user/first.last" }, { name: "name", label: "Name", required: true },
      { name: "email", label: "Email" }, { name: "memberOf", label: "Member of (teams, comma-separated)", hint: "team/analytics" },
      { name: "hasRole", label: "Roles (comma-separated)", hint: "role/editor" }, { name: "description", label: "Description", kind: "textarea" }],
    columns: [["Id", (x) => x.id], ["Name", (x) => x.name], ["Email", (x) => x.email ?? ""], ["Teams", (x) => list(x.memberOf)], ["Roles", (x) => list(x.hasRole)]] },
  { type: "Team", title: "Teams", prefix: "team/", lists: ["hasRole"],
    fields: [{ name: "id", label: "Id", required: true, hint: "team/finance" }, { name: "name", label: "Name", required: true },
      { name: "description", label: "Description", kind: "textarea" }, { name: "hasRole", label: "Roles (comma-separated)", hint: "role/viewer" }],
    columns: [["Id", (x) => x.id], ["Name", (x) => x.name], ["Roles", (x) => list(x.hasRole)], ["Description", (x) => x.description ?? ""]] },
  { type: "Role", title: "Roles", prefix: "role/", lists: ["grants"], refPrefix: { grants: "permission/" },
    fields: [{ name: "id", label: "Id", required: true, hint: "role/auditor, or acme/role/auditor for one workspace" },
      { name: "name", label: "Name", required: true }, { name: "description", label: "Description", kind: "textarea" },
      { name: "workspace", label: "Workspace (empty: every workspace)" },
      { name: "grants", label: "Grants (permissions, comma-separated)", hint: PERMISSIONS.join(", ") }],
    columns: [["Id", (x) => x.id], ["Name", (x) => x.name], ["Workspace", (x) => x.workspace ?? "all"],
      ["Grants", (x) => list((x.grants ?? []).map((g: string) => g.replace(/^permission\//, "")))]] },
  { type: "AccessPolicy", title: "Access policies", prefix: "policy/", lists: [],
    fields: [{ name: "id", label: "Id", required: true, hint: "policy/no-pii-for-contractors" }, { name: "name", label: "Name", required: true },
      { name: "description", label: "Description", kind: "textarea" },
      { name: "effect", label: "Effect", kind: "select", options: [["deny", "deny (beats every allow)"], ["allow", "allow"]] },
      { name: "action", label: "Action", kind: "select", options: PERMISSIONS.map((p) => [p, p]) },
      { name: "targetClassification", label: "Assets classified", hint: "classification/pii" },
      { name: "targetWorkspace", label: "Only in workspace (optional)" },
      { name: "callerMemberOf", label: "Callers in team (optional)", hint: "team/contractors" },
      { name: "callerProperty", label: "Callers whose property (optional)" }, { name: "callerValue", label: "has the value (optional)" },
      { name: "exceptOwners", label: "Except the assets' owners", kind: "checkbox" }],
    columns: [["Id", (x) => x.id], ["Name", (x) => x.name], ["Rule", (x) => [x.effect, x.action, x.targetClassification && `on ${x.targetClassification}`,
      x.targetWorkspace && `in ${x.targetWorkspace}`, x.callerMemberOf && `for members of ${x.callerMemberOf}`,
      x.callerProperty && `for callers with ${x.callerProperty} = ${x.callerValue}`, x.exceptOwners && "except owners"].filter(Boolean).join(" ")]] },
];

/** The asset's JSON from the form: lists split, bare words given their prefix, blanks left out
 * (or, in a merge patch, sent as null so the property is removed). */
function body(kind: Kind, v: Values, patch: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of kind.fields) {
    if (f.name === "id") continue;
    const raw = v[f.name];
    let val: unknown = typeof raw === "boolean" ? raw : String(raw).trim();
    if (kind.lists.includes(f.name)) {
      const pre = kind.refPrefix?.[f.name];
      val = words(String(raw)).map((w) => (pre && !w.includes("/") ? pre + w : w));
      if ((val as string[]).length === 0) val = "";
    }
    if (val === "" || val === false) { if (patch) out[f.name] = null; continue; }
    out[f.name] = val;
  }
  if (!patch) {
    const id = String(v.id).trim();
    out.id = id && !id.includes("/") ? kind.prefix + id : id;
    out.type = kind.type;
  }
  return out;
}

function toValues(kind: Kind, doc: any): Values {
  const v = initialValues(kind.fields);
  for (const f of kind.fields) {
    const x = doc[f.name];
    if (x === undefined || x === null) continue;
    v[f.name] = f.kind === "checkbox" ? !!x : Array.isArray(x)
      ? x.map((w: string) => (kind.refPrefix?.[f.name] ? w.replace(kind.refPrefix[f.name], "") : w)).join(", ") : String(x);
  }
  return v;
}

function Section({ kind }: { kind: Kind }) {
  const [items, setItems] = useState<any[] | null>(null);
  const [tick, setTick] = useState(0);
  const [editing, setEditing] = useState<{ id: string; etag: string | null } | null>(null);
  const [values, setValues] = useState<Values>(initialValues(kind.fields));
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const [open, setOpen] = useState(false);
  const noun = kind.type === "AccessPolicy" ? "access policy" : kind.type.toLowerCase();
  useLatest(() => listAll({ type: kind.type }), setItems, setError, [tick]);
  async function edit(id: string) {
    setError(null); setDone("");
    try {
      const r = await request("GET", `/api/v1/assets/${enc(id)}`);
      setEditing({ id, etag: r.etag }); setValues(toValues(kind, r.body));
    } catch (e) { setError(e); }
  }
  function fresh() { setEditing(null); setOpen(true); setValues(initialValues(kind.fields)); setError(null); setDone(""); }
  async function save() {
    setError(null); setDone("");
    try {
      if (editing) {
        const r = await request("PATCH", `/api/v1/assets/${enc(editing.id)}`, body(kind, values, true),
          { "Content-Type": "application/merge-patch+json", ...(editing.etag ? { "If-Match": editing.etag } : {}) });
        setDone(`Saved ${editing.id} (version ${r.body.version}).`);
        setEditing({ id: editing.id, etag: r.etag ?? `"${r.body.version}"` });
      } else {
        const r = await request("POST", "/api/v1/assets", body(kind, values, false));
        const warned = (r.body.warnings ?? []).map((w: any) => w.message).join(" ");
        setDone(`${r.body.status === "created" ? "Created" : "Updated"} ${r.body.id}.${warned ? " Note: " + warned : ""}`);
        setValues(initialValues(kind.fields));
      }
      setTick(tick + 1);
    } catch (e) { setError(e); }
  }
  const hid = "h-" + kind.type.toLowerCase();
  const fields = editing ? kind.fields.map((f) => (f.name === "id" ? { ...f, hint: "the id cannot change" } : f)) : kind.fields;
  return (<section aria-labelledby={hid} class="directory">
    <h2 id={hid}>{kind.title} {items ? `(${items.length})` : <span class="muted small">(loading…)</span>}</h2>
    <table class="grid" data-testid={"list-" + kind.type}><thead><tr>{kind.columns.map(([h]) => <th>{h}</th>)}<th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>{items?.length === 0 && <tr><td colSpan={kind.columns.length + 1} class="muted">None yet.</td></tr>}{(items ?? []).map((x) => <tr data-id={x.id}>{kind.columns.map(([, f], i) => <td class={i === 0 ? "mono small" : ""}>{f(x)}</td>)}
        <td><button class="link" onClick={() => edit(x.id)}>Edit<span class="sr-only"> {x.id}</span></button></td></tr>)}</tbody></table>
    {!editing && !open && <p><button type="button" onClick={() => setOpen(true)}>{`New ${noun}`}</button></p>}
    {(editing || open) && <>
      {editing && <p><button type="button" class="link" onClick={fresh}>{`Make a new ${noun} instead`}</button></p>}
      <EditForm key={editing?.id ?? "new"} id={"dir-" + kind.type} title={editing ? `Edit ${editing.id}` : `New ${noun}`}
        fields={editing ? fields.filter((f) => f.name !== "id") : fields} values={values} onChange={setValues}
        onSubmit={save} submit={editing ? "Save" : "Create"} error={error} done={done}>
        {editing && <p class="small muted" data-testid="editing-version">Editing version {String(editing.etag ?? "").replace(/\W/g, "")};
          saving sends it as If-Match, so a change someone made meanwhile is not overwritten.</p>}</EditForm></>}
  </section>);
}

export default function Directory() {
  return <>{KINDS.map((k) => <Section kind={k} />)}</>;
}
