// Admin: API keys (create, shown once; revoke), users, teams, roles and access policies
// (./directory), and the audit log with its hash-chain check. For instance admins only.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, Me, request } from "./api";
import Directory from "./directory";

function Keys() {
  const [items, setItems] = useState<any[]>([]);
  const [tick, setTick] = useState(0);
  const [form, setForm] = useState({ subject: "", workspace: "", role: "viewer", label: "" });
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  useEffect(() => { get("/api/v1/keys").then((r) => setItems(r.items)).catch((e) => setError(e.message)); }, [tick]);
  async function create(e: Event) {
    e.preventDefault(); setError(""); setToken("");
    try {
      const body: Record<string, unknown> = { subject: form.subject, label: form.label };
      if (form.workspace) { body.workspace = form.workspace; body.role = form.role; }
      setToken((await request("POST", "/api/v1/keys", body)).body.token); setTick(tick + 1);
    } catch (err) { setError(err instanceof ApiError ? err.message : String(err)); }
  }
  async function revoke(id: string) {
    if (!confirm(`Revoke key ${id}?`)) return;
    try { await request("DELETE", `/api/v1/keys/${encodeURIComponent(id)}`); setTick(tick + 1); }
    catch (err) { setError(err instanceof ApiError ? err.message : String(err)); }
  }
  const upd = (k: string) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  return (<section aria-labelledby="h-keys"><h2 id="h-keys">API keys</h2>
    <table class="grid"><thead><tr><th>Id</th><th>Subject</th><th>Grants</th><th>Label</th><th>Expires</th><th></th></tr></thead>
      <tbody>{items.map((k) => <tr><td class="mono">{k.id}</td><td>{k.subject}</td><td>{k.admin ? "admin" : `${k.role ?? ""} ${k.workspace ?? ""}`}</td>
        <td>{k.label}</td><td>{k.expires ?? "never"}</td><td>{k.revoked ? <span class="muted">revoked {k.revoked}</span> : <button class="link" aria-label={`Revoke key ${k.id}`} onClick={() => revoke(k.id)}>Revoke</button>}</td></tr>)}</tbody></table>
    <form class="inline" onSubmit={create}><label>Subject <input value={form.subject} onInput={upd("subject")} placeholder="user/alice" required /></label>
      <label>Workspace <input value={form.workspace} onInput={upd("workspace")} /></label>
      <label>Role <input value={form.role} onInput={upd("role")} /></label>
      <label>Label <input value={form.label} onInput={upd("label")} /></label><button type="submit">Create key</button></form>
    {token && <p class="ok" role="status">New key (shown once): <code>{token}</code></p>}
    {error && <p class="error" role="alert">{error}</p>}
  </section>);
}

function Audit() {
  const [items, setItems] = useState<any[]>([]);
  const [check, setCheck] = useState<any>(null);
  const [outcome, setOutcome] = useState("");
  const [error, setError] = useState("");
  useEffect(() => { get("/api/v1/audit", { newestFirst: true, limit: 100, outcome: outcome || undefined }).then((r) => setItems(r.items)).catch((e) => setError(e.message)); }, [outcome]);
  return (<section aria-labelledby="h-audit"><h2 id="h-audit">Audit log</h2>
    <p><button onClick={() => get("/api/v1/audit/verify").then(setCheck).catch((e) => setError(e.message))}>Verify the hash chain</button>{" "}
      <label>Outcome <select value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
        <option value="">any</option><option>allowed</option><option>denied</option><option>error</option></select></label></p>
    {check && <p class={check.ok ? "ok" : "error"} role="status" data-testid="audit-check">{check.ok
      ? `The chain is intact: ${check.checked} entries checked; head ${String(check.head).slice(0, 16)}…`
      : `The chain is broken at entry ${check.firstBadSeq}: ${check.reason}`}</p>}
    {error && <p class="error" role="alert">{error}</p>}
    <table class="grid"><thead><tr><th>Seq</th><th>Time</th><th>Actor</th><th>Action</th><th>Outcome</th><th>Targets</th><th>Detail</th></tr></thead>
      <tbody>{items.map((x) => <tr><td>{x.seq}</td><td class="small">{x.time}</td><td>{x.actor} <span class="muted small">({x.via})</span></td><td>{x.action}</td><td>{x.outcome}</td>
        <td class="small mono">{(x.targets ?? []).slice(0, 3).join(", ")}{(x.targets ?? []).length > 3 ? ` +${x.targets.length - 3}` : ""}</td><td class="small">{x.detail}</td></tr>)}</tbody></table>
  </section>);
}

export default function AdminPage({ me }: { me: Me }) {
  if (!me.admin) return (<main class="admin"><h1>Admin</h1>
    <p class="note" role="alert" data-testid="not-admin">The admin pages (API keys, users, teams, roles, access policies
      and the audit log) are for instance admins. You are signed in as {me.subject}, who is not one; ask an admin to
      make the change, or sign in with an admin key.</p></main>);
  return <main class="admin"><h1>Admin</h1><nav aria-label="Admin sections" class="jump"><a href="#h-keys">API keys</a>
    <a href="#h-user">Users</a><a href="#h-team">Teams</a><a href="#h-role">Roles</a><a href="#h-accesspolicy">Access policies</a>
    <a href="#h-audit">Audit log</a></nav><Keys /><Directory /><Audit /></main>;
}
