// A history-API router: every page's state is in its URL, so links can be saved and shared.
import { useEffect, useState } from "preact/hooks";
import { enc } from "./api";

export interface Loc {
  path: string;
  params: URLSearchParams;
}

function current(): Loc {
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

const EVENT = "semcat:navigate";

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event(EVENT));
}

export function useLocation(): Loc {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    window.addEventListener("popstate", update);
    window.addEventListener(EVENT, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return loc;
}

export function assetHref(key: string): string {
  return "/ui/asset/" + enc(key);
}

// same-origin links under /ui/ change the page without a reload
document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element).closest?.("a");
  if (!a || a.target || a.origin !== location.origin || !a.pathname.startsWith("/ui/")) return;
  e.preventDefault();
  navigate(a.pathname + a.search + a.hash);
  window.scrollTo(0, 0);
});
