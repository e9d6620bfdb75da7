// What the editing pages share: a server problem (RFC 9457) put into words, and its errors
// placed at the form field they are about, so nobody has to read JSON to fix an edit.
import { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { ApiError, get } from "./api";

/** The field an error item is about: a request field (`where: body.name`), a shape's path
 * (`path: https://w3id.org/semcat#effect`) or a field named in the message (`'name' is required`). */
export function fieldOf(item: any): string | null {
  if (typeof item?.where === "string" && item.where.startsWith("body.")) return item.where.slice(5).split(".")[0];
  if (typeof item?.path === "string") return item.path.split(/[#/]/).pop() || null;
  const m = /^'([A-Za-z]+)'/.exec(item?.message ?? "");
  return m ? m[1] : null;
}

export function describe(item: any): string {
  return item?.message ?? item?.detail ?? JSON.stringify(item);
}

/** Field name to the messages about it, for the fields a form shows. */
export function fieldErrors(error: unknown, fields: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!(error instanceof ApiError)) return out;
  for (const item of error.problem.errors ?? []) {
    const f = fieldOf(item);
    if (f && fields.includes(f)) (out[f] ??= []).push(describe(item));
  }
  return out;
}

/** The problem in words: its detail, then each error not already shown at a field. */
export function Failure({ error, shown = [] }: { error: unknown; shown?: string[] }) {
  if (!error) return null;
  const e = error as ApiError;
  if (!(e instanceof ApiError)) return <div class="error" role="alert"><p>{String(error)}</p></div>;
  const items = (e.problem.errors ?? []).filter((x) => !shown.includes(fieldOf(x) ?? ""));
  const words = e.status === 403 ? "You may not do this: " : e.status === 412 ? "Someone changed this meanwhile: " : "";
  return (<div class="error problem" role="alert" data-testid="problem">
    <p><strong>{e.problem.title ?? `Error ${e.status}`}.</strong> {words}{e.message}</p>
    {items.length > 0 && <ul>{items.map((x: any) => <li>{x.source ? <span class="muted">{x.source}: </span> : null}
      {x.where && !x.where.startsWith("body.") ? x.where + ": " : ""}{describe(x)}</li>)}</ul>}</div>);
}

/** A labelled input with its errors beside it (aria-invalid, aria-describedby). */
export function Field({ id, label, errors, children, hint }: {
  id: string; label: string; errors?: string[]; children: ComponentChildren; hint?: string;
}) {
  return (<div class="field-row">
    <label for={id}>{label}</label>
    {children}
    {hint && <span class="small muted" id={id + "-hint"}>{hint}</span>}
    {errors && errors.length > 0 && <ul id={id + "-err"} class="error field-error" role="alert">{errors.map((m) => <li>{m}</li>)}</ul>}
  </div>);
}

/** The attributes an input needs to carry its field's errors. */
export function invalid(id: string, errors?: string[]) {
  const bad = !!errors && errors.length > 0;
  return { id, "aria-invalid": bad ? "true" : undefined, "aria-describedby": bad ? id + "-err" : undefined } as const;
}

/** Runs `load` now and whenever `deps` change, handing its answer to `keep` only if no newer
 * load started meanwhile: on a busy server an older, slower answer must not overwrite a newer one. */
export function useLatest<T>(load: () => Promise<T>, keep: (t: T) => void, fail: (e: unknown) => void, deps: unknown[]): void {
  useEffect(() => {
    let live = true;
    load().then((t) => { if (live) keep(t); }).catch((e) => { if (live) fail(e); });
    return () => { live = false; };
  }, deps);
}

/** Every asset a listing matches, a page of 200 at a time (larger pages are much slower to
 * answer), up to `most`. */
export async function listAll(params: Record<string, unknown>, most = 1000): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const r = await get("/api/v1/assets", { ...params, limit: 200, cursor });
    items.push(...(r.items ?? []));
    cursor = r.next ?? undefined;
  } while (cursor && items.length < most);
  return items;
}

/** Local name of an ontology IRI as people write it: semcat:Table, local:FactTable, xsd:string. */
export function curie(iri: string): string {
  const prefixes: [string, string][] = [["https://w3id.org/semcat#", "semcat:"], ["http://www.w3.org/2001/XMLSchema#", "xsd:"],
    ["http://www.w3.org/2002/07/owl#", "owl:"], ["http://www.w3.org/ns/prov#", "prov:"], ["http://www.w3.org/ns/odrl/2/", "odrl:"],
    ["http://www.w3.org/2004/02/skos/core#", "skos:"], ["http://www.w3.org/ns/dcat#", "dcat:"]];
  for (const [ns, p] of prefixes) if (iri.startsWith(ns)) return p + iri.slice(ns.length);
  const hash = iri.indexOf("/ontology#");
  return hash >= 0 ? "local:" + iri.slice(hash + 10) : iri;
}

export interface FieldSpec {
  name: string;
  label: string;
  kind?: "text" | "textarea" | "select" | "checkbox";
  options?: [string, string][];  // value, label
  required?: boolean;
  hint?: string;
  list?: string;  // the id of a <datalist> of suggestions
  initial?: string | boolean;
}

export type Values = Record<string, string | boolean>;

export function initialValues(fields: FieldSpec[]): Values {
  return Object.fromEntries(fields.map((f) => [f.name, f.initial ?? (f.kind === "checkbox" ? false : f.options?.[0]?.[0] ?? "")]));
}

/** A form of labelled fields; the server's refusal is shown at the fields and in words below. */
export function EditForm({ id, title, fields, values, onChange, onSubmit, submit, error, done, children }: {
  id: string; title: string; fields: FieldSpec[]; values: Values; onChange: (v: Values) => void;
  onSubmit: () => void; submit: string; error: unknown; done: string; children?: ComponentChildren;
}) {
  const errs = fieldErrors(error, fields.map((f) => f.name));
  const set = (name: string, v: string | boolean) => onChange({ ...values, [name]: v });
  return (
    <form class="stack edit" aria-labelledby={id + "-h"} data-testid={id} noValidate
      onSubmit={(e) => { e.preventDefault(); onSubmit(); }}>
      <h3 id={id + "-h"}>{title}</h3>
      {fields.map((f) => {
        const fid = `${id}-${f.name}`;
        const a = invalid(fid, errs[f.name]);
        const described = [a["aria-describedby"], f.hint ? fid + "-hint" : undefined].filter(Boolean).join(" ") || undefined;
        if (f.kind === "checkbox") return (<div class="field-row check">
          <input type="checkbox" {...a} checked={!!values[f.name]} onChange={(e) => set(f.name, (e.target as HTMLInputElement).checked)} />
          <label for={fid}>{f.label}</label>
          {errs[f.name] && <ul id={fid + "-err"} class="error field-error" role="alert">{errs[f.name].map((m) => <li>{m}</li>)}</ul>}</div>);
        const input = f.kind === "select"
          ? <select {...a} aria-describedby={described} value={String(values[f.name])} onChange={(e) => set(f.name, (e.target as HTMLSelectElement).value)}>
              {(f.options ?? []).map(([v, l]) => <option value={v}>{l}</option>)}</select>
          : f.kind === "textarea"
            ? <textarea {...a} aria-describedby={described} rows={3} value={String(values[f.name])} onInput={(e) => set(f.name, (e.target as HTMLTextAreaElement).value)} />
            : <input {...a} aria-describedby={described} list={f.list} aria-required={f.required ? "true" : undefined}
                value={String(values[f.name])} onInput={(e) => set(f.name, (e.target as HTMLInputElement).value)} />;
        return <Field id={fid} label={f.label + (f.required ? " (required)" : "")} errors={errs[f.name]} hint={f.hint}>{input}</Field>;
      })}
      {children}
      <p><button type="submit">{submit}</button></p>
      {done && <p class="ok" role="status">{done}</p>}
      <Failure error={error} shown={Object.keys(errs)} />
    </form>
  );
}

/** Comma- or newline-separated words, trimmed, without blanks. */
export function words(s: string | boolean): string[] {
  return String(s).split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
}
