// Search highlights arrive as HTML with <b> around the matched words: rebuild them as text and
// <mark> only, so nothing else in an asset's text can ever become markup.
import { ComponentChild } from "preact";

export function Highlighted({ html }: { html: string }) {
  const doc = new DOMParser().parseFromString(`<div>${html}</div>`, "text/html");
  const out: ComponentChild[] = [];
  doc.body.firstChild?.childNodes.forEach((n) => {
    if (n.nodeType === Node.ELEMENT_NODE && (n as Element).tagName === "B") out.push(<mark>{n.textContent}</mark>);
    else out.push(n.textContent ?? "");
  });
  return <>{out}</>;
}
