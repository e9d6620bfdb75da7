"""Page weight and time to interactive of the web UI's search and asset pages on the demo
catalog, measured in Debian's chromium (headless, driven by Playwright) against a real server.

- weight: bytes transferred for the page (document, scripts, styles and its API calls), cold
  cache, from the browser's Resource Timing (``transferSize``: headers plus body as sent;
  the server does not compress, so this is the uncompressed size);
- interactive: from navigation start until the page's content is on screen and answers input
  (search: the first hits rendered; asset: the columns table rendered; lineage: the graph's
  nodes listed, after the ELK layout), then the main thread
  is idle (a ``requestIdleCallback`` fires) — a lab approximation of TTI;
- warm: the same page again in the same tab (scripts from the cache, API calls again).

    python -m bench.web_ui              # 7 runs each
    python -m bench.web_ui --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._common import ROOT, TMP, Server, table, write_results

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = {
    "search": ("/ui/search?q=customer+orders", "li.hit"),
    "asset": ("/ui/asset/acme/table/postgres/shop.public.orders", "[data-testid=columns] tbody tr"),
    # column level, ten hops both ways: ~130 nodes laid out by ELK
    "lineage": ("/ui/lineage?asset=acme/table/postgres/shop.public.orders&level=column&depth=10",
                "[data-testid=node-list] li"),
}
# ms since navigation start once the main thread has been idle after `ready` is on screen
_IDLE = "() => new Promise(r => requestIdleCallback(() => r(performance.now())))"
_BYTES = """() => performance.getEntriesByType('navigation').concat(
    performance.getEntriesByType('resource')).reduce((n, e) => n + e.transferSize, 0)"""
_REQUESTS = "() => performance.getEntriesByType('resource').length + 1"


def measure(url: str, runs: int) -> dict[str, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, dict[str, Any]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for name, (path, ready) in PAGES.items():
                cold, warm, weight, requests = [], [], [], []
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 1366, "height": 860})
                    page = context.new_page()
                    for first in (True, False):
                        page.goto(url + path)
                        page.wait_for_selector(ready)
                        tti = page.evaluate(_IDLE)
                        if first:
                            cold.append(tti)
                            weight.append(page.evaluate(_BYTES))
                            requests.append(page.evaluate(_REQUESTS))
                        else:
                            warm.append(tti)
                    context.close()
                out[name] = {"path": path, "runs": runs,
                             "bytes": int(statistics.median(weight)),
                             "requests": int(statistics.median(requests)),
                             "tti_cold_ms": statistics.median(cold),
                             "tti_warm_ms": statistics.median(warm)}
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=TMP, prefix="semcat-bench-webui-") as tmp:
        data = Path(tmp) / "demo"
        subprocess.run([sys.executable, "-m", "semcat", "demo", "--data", str(data)], cwd=ROOT,
                       check=True, capture_output=True)
        with Server(data) as server:
            results = measure(server.url, args.runs)
    print(table(["page", "KiB transferred", "requests", "TTI cold (ms)", "TTI warm (ms)"],
                [[n, r["bytes"] / 1024, r["requests"], r["tti_cold_ms"], r["tti_warm_ms"]]
                 for n, r in results.items()]))
    print(f"written to {write_results('web_ui', {'pages': results})}")


if __name__ == "__main__":
    main()
