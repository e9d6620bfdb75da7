"""Change-to-delivery latency of the change stream through a real server: from the moment a
changeset is stamped in the journal (the event's ``time``) to its event reaching an SSE
subscriber (``GET /api/v1/events``), a NATS JetStream consumer (the catalog's publisher on a
real ``nats-server -js``) and a webhook receiver on 127.0.0.1 (a signed POST per event), under
writers paced towards 1,000 changesets/s. Beside it, the raw library: nats-py publishing to
JetStream and a consumer receiving, at the same rate.

    python -m bench.events                  # 8 writers, 20 s, towards 1,000 changesets/s
    python -m bench.events --seconds 60 --writers 16 --rate 1000

Target (issue 17): p95 change-to-SSE <= 50 ms. Writes are single-asset PATCHes over HTTP;
the rate reached is what the write path allows on this machine, and is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import nats

from bench._common import ROOT, Server, free_port, table, write_results

STREAM, PREFIX, WS = "SEMCAT_BENCH_EVENTS", "semcat.events", "bench"


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def stamped(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["time"]).timestamp()


class Nats:
    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "nats-server"), "-js", "-a", "127.0.0.1", "-p",
             str(self.port), "-sd", str(store)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def sse_listener(url: str, latencies: list[float], stop: threading.Event) -> None:
    params = {"type": "asset.updated", "workspace": WS}
    with httpx.stream("GET", url + "/api/v1/events", params=params,
                      timeout=httpx.Timeout(10, read=None)) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                latencies.append(time.time() - stamped(json.loads(line[5:])))
            if stop.is_set():
                return


class WebhookReceiver:
    """An HTTP/1.1 (keep-alive) receiver on 127.0.0.1 timing each delivered event."""

    def __init__(self, latencies: list[float]) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                latencies.append(time.time() - stamped(json.loads(body)))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def nats_listener(nats_url: str, subject: str, latencies: list[float], stop: threading.Event,
                  ready: threading.Event, raw: bool = False) -> None:
    async def run() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()

        async def got(msg: Any) -> None:
            now = time.time()
            body = json.loads(msg.data)
            latencies.append(now - (body["sent"] if raw else stamped(body)))

        if raw:
            await js.add_stream(name="RAW", subjects=["raw.>"])
        else:
            while True:  # the catalog's publisher makes the stream
                try:
                    await js.stream_info(STREAM)
                    break
                except Exception:
                    await asyncio.sleep(0.1)
        await js.subscribe(subject, cb=got, ordered_consumer=True, deliver_policy="new")
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await nc.close()

    asyncio.run(run())


def writers(url: str, tables: list[str], rate: float, seconds: float, n: int,
            round_trips: list[float]) -> int:
    """Paced single-asset PATCHes, each one's round trip timed: the write path's share."""
    done = [0] * n

    def writer(k: int) -> None:
        mine = tables[k::n]
        gap = n / rate
        start = time.monotonic()
        with httpx.Client(base_url=url, timeout=60) as http:
            i = 0
            while (now := time.monotonic()) - start < seconds:
                due = start + i * gap
                if due > now:
                    time.sleep(due - now)
                sent = time.time()
                r = http.patch(f"/api/v1/assets/{mine[i % len(mine)]}",
                               json={"description": f"take {k}.{i}"})
                assert r.status_code == 200, r.text[:1000]
                round_trips.append(time.time() - sent)
                i += 1
        done[k] = i

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done)


def raw_nats(nats_url: str, rate: float, seconds: float) -> list[float]:
    """nats-py alone: JetStream publish (acknowledged) to a push consumer, paced at ``rate``."""
    latencies: list[float] = []
    stop, ready = threading.Event(), threading.Event()
    listener = threading.Thread(target=nats_listener, args=(nats_url, "raw.>", latencies, stop,
                                                            ready, True))
    listener.start()
    ready.wait(10)

    async def publish() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < seconds:
            due = start + i / rate
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
            await js.publish("raw.bench", json.dumps({"sent": time.time(), "i": i}).encode(),
                             headers={"Nats-Msg-Id": str(i)})
            i += 1
        await nc.close()

    asyncio.run(publish())
    time.sleep(1)
    stop.set()
    listener.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=1000, help="changesets/s to aim for")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--tables", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        broker = Nats(Path(tmp) / "jetstream")
        srv = Server(Path(tmp) / "catalog", env={
            "SEMCAT_EVENTS_NATS_URL": broker.url, "SEMCAT_EVENTS_NATS_STREAM": STREAM,
            "SEMCAT_EVENTS_NATS_SUBJECT_PREFIX": PREFIX, "SEMCAT_WEBHOOKS_ALLOW_PRIVATE": "true"})
        hooked: list[float] = []
        receiver = WebhookReceiver(hooked)
        try:
            srv.start()
            tables = seed(srv.url, args.tables)
            r = httpx.post(srv.url + "/api/v1/webhooks", json={
                "url": receiver.url, "types": ["asset.updated"], "workspaces": [WS]})
            assert r.status_code == 201, r.text
            sse: list[float] = []
            via_nats: list[float] = []
            round_trips: list[float] = []
            stop, ready = threading.Event(), threading.Event()
            listeners = [threading.Thread(target=sse_listener, args=(srv.url, sse, stop),
                                          daemon=True),
                         threading.Thread(target=nats_listener, args=(
                             broker.url, f"{PREFIX}.{WS}.asset.updated", via_nats, stop, ready))]
            for t in listeners:
                t.start()
            ready.wait(30)
            time.sleep(0.5)
            started = time.monotonic()
            n = writers(srv.url, tables, args.rate, args.seconds, args.writers, round_trips)
            reached = n / (time.monotonic() - started)
            time.sleep(2)  # the last deliveries
            stop.set()
            describe(srv.url, tables[0])  # wakes the SSE listener to see the stop
            for t in listeners:
                t.join(10)
            raw = raw_nats(broker.url, reached, min(args.seconds, 10))
        finally:
            srv.stop()
            broker.stop()
            receiver.close()
    rows = [[name, len(v), f"{pct(v, 50) * 1000:.1f}", f"{pct(v, 95) * 1000:.1f}",
             f"{pct(v, 99) * 1000:.1f}"]
            for name, v in (("write round trip (PATCH), for scale", round_trips),
                            ("change -> SSE subscriber", sse),
                            ("change -> NATS JetStream consumer", via_nats),
                            ("change -> webhook receiver (signed POST)", hooked),
                            ("raw nats-py publish -> consumer", raw))]
    print(f"{n} changesets in {args.seconds:.0f} s by {args.writers} writers: {reached:.0f} "
          f"changesets/s reached (aimed at {args.rate:.0f}); ms")
    print(table(["path", "events", "p50", "p95", "p99"], rows))
    print(f"p95 ratio to raw nats-py: SSE {pct(sse, 95) / pct(raw, 95):.1f}x, "
          f"NATS {pct(via_nats, 95) / pct(raw, 95):.1f}x, "
          f"webhooks {pct(hooked, 95) / pct(raw, 95):.1f}x")
    write_results("events", {
        "changesets": n, "rate_reached": reached, "rate_aimed": args.rate,
        "writers": args.writers, **{name: {"n": len(v), "p50_ms": pct(v, 50) * 1000,
                                           "p95_ms": pct(v, 95) * 1000}
                                    for name, v in (("sse", sse), ("nats", via_nats),
                                                    ("webhooks", hooked),
                                                    ("raw_nats", raw))}})


def seed(url: str, n: int) -> list[str]:
    items: list[dict[str, Any]] = [
        {"id": "platform/pg", "type": "DataPlatform", "name": "PG", "description": "pg"},
        {"id": WS, "type": "Workspace", "name": "Bench", "description": "bench"},
        {"id": f"{WS}/database/pg/db", "type": "Database", "workspace": WS,
         "platform": "platform/pg", "name": "db", "qualifiedName": "db", "description": "db"},
        {"id": f"{WS}/schema/pg/db.s", "type": "Schema", "workspace": WS,
         "platform": "platform/pg", "name": "s", "qualifiedName": "db.s", "description": "s",
         "partOf": f"{WS}/database/pg/db"}]
    items += [{"id": f"{WS}/table/pg/db.s.t{i}", "type": "Table", "workspace": WS,
               "platform": "platform/pg", "name": f"t{i}", "qualifiedName": f"db.s.t{i}",
               "description": "a table", "partOf": f"{WS}/schema/pg/db.s"} for i in range(n)]
    r = httpx.post(url + "/api/v1/assets:bulk", json=items, timeout=120)
    assert r.status_code == 200, r.text[:1000]
    return [str(i["id"]) for i in items[4:]]


def describe(url: str, key: str) -> None:
    httpx.patch(f"{url}/api/v1/assets/{key}", json={"description": "the end"}, timeout=60)


if __name__ == "__main__":
    main()
