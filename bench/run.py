"""``make bench``: the service in production mode on loopback, measured against the same bytes as static files.

What it does, in order (everything under ``var/bench/``, its own Redis database number, nothing shared):

1. A SQLite database with the bundled snapshot (made once, kept; ``--fresh`` rebuilds it), or
   ``--database-url`` (e.g. ``postgres://postgres@127.0.0.1:5432/tokenprices_bench``), and collected static files.
2. Ingest times: the snapshot's latest LiteLLM capture into an empty database, then the same again
   (unchanged), each in a database of its own made for the purpose.
3. gunicorn with 2 workers, ``DEBUG=0``, the Redis cache on database ``--redis-db``; the cold times of an
   uncached estimate over the whole catalogue and of the leaderboard.
4. Each endpoint's body written as a static file (with its .gz and .br, as collectstatic makes them) and
   served by the same server (WhiteNoise), its "static twin"; then ``wrk`` (or, without it, a bounded
   built-in loop) on each endpoint and its twin, plain and brotli.
5. With ``--scrapes``: a worker process re-ingests alternating LiteLLM captures in a loop (every ingest
   moves the change stamp and queues nothing: it warms the most-read answers itself, as the Celery task
   does) while ``/``, ``offerings/?limit=100`` and the estimate are loaded with 32 connections.

A benchmark, not a test: it prints figures and checks nothing.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ESTIMATE = "/api/v1/estimate/?input_tokens=1000000&output_tokens=1000000"
ENDPOINTS = {
    "offerings-100": "/api/v1/offerings/?limit=100",
    "offerings-1000": "/api/v1/offerings/?limit=1000",
    "leaderboard": "/",
    "estimate": ESTIMATE,
    "offerings-csv": "/api/v1/offerings/?limit=1000&format=csv",
    "compat-litellm": "/compat/litellm/model_prices_and_context_window.json",
}
EXTENSIONS = {"leaderboard": "html", "offerings-csv": "csv"}
UNDER_SCRAPES = ["leaderboard", "offerings-100", "estimate"]
POSTGRES = "postgres://postgres@127.0.0.1:5432/tokenprices_bench"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(args: argparse.Namespace, var_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-a-secret-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "VAR_DIR": str(var_dir),
            # The rate is still counted on every request (its cost is measured), never reached.
            "API_ANON_RATE": "1000000000/hour",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "pricing.settings",
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
        env["CELERY_BROKER_URL"] = args.redis_url
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env: dict[str, str], *command: str) -> None:
    # Their output goes to stderr with the progress notes: stdout is the table.
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *command], env=env, cwd=ROOT, check=True, stdout=sys.stderr)


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


# --- the server ------------------------------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict[str, str], port: int, workers: int) -> None:
        self.env, self.port, self.workers = env, port, workers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gunicorn = Path(PYTHON).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "pricing.wsgi",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level=warning",
            ],
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/static/bench/ping.txt", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None


def get(url: str, encoding: str | None = None) -> tuple[float, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
        return time.perf_counter() - started, dict(response.headers), body


# --- load ------------------------------------------------------------------------------------------------------


def wrk(url: str, *, seconds: int, connections: int, encoding: str | None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if encoding:
        command += ["-H", f"Accept-Encoding: {encoding}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {}
    for share, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        latency[share] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    return {
        "rps": rate,
        "p50_ms": latency.get("50", float("nan")),
        "p99_ms": latency.get("99", float("nan")),
        "bad": float(failed.group(1)) if failed else 0.0,
        "timeouts": float(errors.group(1)) if errors else 0.0,
    }


def builtin_load(url: str, *, seconds: int, connections: int, encoding: str | None) -> dict[str, float]:
    """A bounded keep-alive loop in threads, for machines without wrk (slower than wrk: compare ratios)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept-Encoding": encoding} if encoding else {}
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()

    def run() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine: list[float] = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status >= 400:
                bad[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / took,
        "p50_ms": ordered[len(ordered) // 2] * 1000 if ordered else float("nan"),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else float("nan"),
        "bad": float(bad[0]),
        "timeouts": 0.0,
    }


def load(url: str, *, seconds: int, connections: int, encoding: str | None) -> dict[str, float]:
    if shutil.which("wrk"):
        return wrk(url, seconds=seconds, connections=connections, encoding=encoding)
    return builtin_load(url, seconds=seconds, connections=connections, encoding=encoding)


# --- ingest times (run in a process of its own, on its own database) ---------------------------------------------


def ingest_times() -> dict[str, float]:
    """The snapshot's latest LiteLLM capture into the (empty) database, then again, unchanged: seconds."""
    import django

    django.setup()
    import datetime as dt

    from django.conf import settings

    from pricing import services, snapshot
    from pricing.models import Price, ScrapeRun

    entries = [e for e in snapshot.snapshot_entries(settings.SNAPSHOT_PATH) if e["source"] == "litellm"]
    entry = entries[-1]
    records = [snapshot.record_from_json(r) for r in entry["records"]]
    times = {}
    for label in ("empty", "unchanged"):
        started = time.perf_counter()
        result = services.records_ingest(
            slug="litellm",
            records=records,
            kind=entry.get("kind", ScrapeRun.Kind.SNAPSHOT),
            as_of=dt.datetime.fromisoformat(entry["as_of"]),
            content_hash=entry["document_sha256"],
            note="bench",
        )
        times[label] = time.perf_counter() - started
        log(f"ingest ({label} database): {times[label]:.3f} s; {result.summary()}")
    times["records"] = float(len(records))
    times["prices"] = float(Price.objects.count())
    return times


def scrape_loop(stop_file: Path) -> None:
    """The --scrapes worker: ingest two LiteLLM captures alternately until ``stop_file`` appears; each ingest
    commits a change (the stamp moves) and the most-read answers are warmed after it, as the task does."""
    import django

    django.setup()
    import datetime as dt

    from django.conf import settings

    from pricing import answers, services, snapshot

    entries = [e for e in snapshot.snapshot_entries(settings.SNAPSHOT_PATH) if e["source"] == "litellm"][-2:]
    loads = [[snapshot.record_from_json(r) for r in e["records"]] for e in entries]
    round_number = done = 0
    while not stop_file.exists():
        entry, records = entries[round_number % 2], loads[round_number % 2]
        started = time.perf_counter()
        try:
            services.records_ingest(
                slug="litellm",
                records=records,
                kind="snapshot",
                as_of=dt.datetime.now(dt.UTC),
                content_hash=hashlib.sha256(f"{entry['document_sha256']}-{round_number}".encode()).hexdigest(),
                note="bench scrape loop",
            )
            services.prices_changed()  # every round moves the stamp, even one that changed no price
            answers.warm()
            done += 1
            log(f"worker: scrape round {round_number} took {time.perf_counter() - started:.2f} s (ingest, warm)")
        except Exception as exc:  # a benchmark's worker reports and goes on
            log(f"worker: scrape round {round_number} failed: {exc!r}")
        round_number += 1
        stop_file.with_suffix(".rounds").write_text(str(done))
        time.sleep(1)


# --- the run ---------------------------------------------------------------------------------------------------


def setup_database(args: argparse.Namespace, env: dict[str, str], var_dir: Path) -> None:
    marker = var_dir / ("loaded-" + re.sub(r"\W", "_", args.database_url or "sqlite"))
    if args.fresh:
        marker.unlink(missing_ok=True)
        if not args.database_url:
            (var_dir / "db.sqlite3").unlink(missing_ok=True)
    if not marker.exists():
        log("loading the bundled snapshot (once; --fresh to redo)")
        if args.database_url and args.database_url.startswith("postgres"):
            name = args.database_url.rsplit("/", 1)[-1]
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=False)
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "sync_sources")
        started = time.perf_counter()
        manage(env, "snapshot", "load")
        log(f"snapshot load: {time.perf_counter() - started:.1f} s")
        marker.write_text("loaded\n")
    manage(env, "migrate", "--no-input", "-v0")  # a checkout with newer migrations than the kept database
    manage(env, "collectstatic", "--no-input", "-v0")


def measure_ingest(args: argparse.Namespace, var_dir: Path) -> dict[str, float]:
    database = var_dir / "ingest.sqlite3"
    database.unlink(missing_ok=True)
    env = environment(args, var_dir, f"sqlite:///{database}")
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "sync_sources")
    output = subprocess.run(
        [PYTHON, __file__, "--ingest-only"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    sys.stderr.write(output.stderr)
    return dict(json.loads(output.stdout))


def cold_times(server: Server, redis_url: str | None, rounds: int = 3) -> dict[str, float]:
    """Seconds for an uncached estimate and leaderboard (median of ``rounds``, each after emptying the cache;
    the workers have served a request of each kind before, so code and templates are loaded)."""
    get(server.base + ESTIMATE.replace("1000000&", "999&"))
    get(server.base + "/?q=a")
    found: dict[str, list[float]] = {"estimate": [], "leaderboard": []}
    for _ in range(rounds):
        for name, path in (("estimate", ESTIMATE), ("leaderboard", "/")):
            if redis_url:
                redis_flush(redis_url)
            else:
                shutil.rmtree(Path(server.env["VAR_DIR"]) / "cache", ignore_errors=True)
            took, _, _ = get(server.base + path)
            found[name].append(took)
    return {name: statistics.median(values) for name, values in found.items()}


def write_twins(server: Server, static_root: Path) -> dict[str, dict[str, int]]:
    """Each endpoint's body as a static file (and its .gz and .br); their sizes in each encoding."""
    import brotli

    twins = static_root / "bench"
    twins.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, dict[str, int]] = {}
    for name, path in ENDPOINTS.items():
        _, _, body = get(server.base + path)
        _, br_headers, as_br = get(server.base + path, "br")
        _, _, as_gzip = get(server.base + path, "gzip")
        assert br_headers.get("Content-Encoding") == "br", f"{path} was not sent brotli-compressed"
        assert brotli.decompress(as_br) == body and gzip.decompress(as_gzip) == body, f"{path}: encodings differ"
        target = twins / f"{name}.{EXTENSIONS.get(name, 'json')}"
        target.write_bytes(body)
        Path(f"{target}.gz").write_bytes(gzip.compress(body, 6, mtime=0))
        Path(f"{target}.br").write_bytes(brotli.compress(body, quality=5))
        sizes[name] = {"raw": len(body), "gzip": len(as_gzip), "br": len(as_br)}
    return sizes


def twin_url(server: Server, name: str) -> str:
    return f"{server.base}/static/bench/{name}.{EXTENSIONS.get(name, 'json')}"


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"\n### {title}\n", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="load per measurement (default 8)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="'' for the file cache")
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"default: {POSTGRES} when PostgreSQL answers on 127.0.0.1, else 'sqlite' (var/bench/db.sqlite3)",
    )
    parser.add_argument("--scrapes", action="store_true", help="load with a scrape looping in a worker")
    parser.add_argument("--fresh", action="store_true", help="reload the snapshot into a new database")
    parser.add_argument("--ingest-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scrape-loop", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_only:
        print(json.dumps(ingest_times()))
        return
    if args.scrape_loop:
        scrape_loop(Path(args.scrape_loop))
        return

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    if args.database_url is None:
        postgres_up = (
            shutil.which("pg_isready") and subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0
        )
        args.database_url = POSTGRES if postgres_up else ""
    if args.database_url == "sqlite":
        args.database_url = ""
    if args.redis_url and not redis_up(args.redis_url):
        log(f"no Redis at {args.redis_url}: using the file cache")
        args.redis_url = ""
    env = environment(args, var_dir, args.database_url or None)
    setup_database(args, env, var_dir)
    static_root = var_dir / "static"
    (static_root / "bench").mkdir(parents=True, exist_ok=True)
    (static_root / "bench" / "ping.txt").write_text("ok\n")

    ingest = measure_ingest(args, var_dir)
    server = Server(env, spare_port(), args.workers)
    if args.redis_url:
        redis_flush(args.redis_url)
    server.start()
    try:
        cold = cold_times(server, args.redis_url)
        sizes = write_twins(server, static_root)
    finally:
        server.stop()
    server.start()  # WhiteNoise lists the static files when it starts: now with the twins
    output = []
    try:
        for path in ENDPOINTS.values():  # warm: stored answers in every encoding
            get(server.base + path)
        runs = []
        for name, path in ENDPOINTS.items():
            for encoding in (None, "br"):
                if encoding and name not in ("offerings-100", "offerings-1000", "leaderboard"):
                    continue
                served = load(server.base + path, seconds=args.seconds, connections=args.connections, encoding=encoding)
                static = load(
                    twin_url(server, name), seconds=args.seconds, connections=args.connections, encoding=encoding
                )
                runs.append((name, path, encoding or "identity", served, static))
                log(f"{path} [{encoding or 'identity'}]: {served['rps']:.0f} req/s vs static {static['rps']:.0f}")
        scraped = []
        scrape_rounds = 0
        if args.scrapes:
            stop_file = var_dir / "stop-scrapes"
            stop_file.unlink(missing_ok=True)
            worker = subprocess.Popen([PYTHON, __file__, "--scrape-loop", str(stop_file)], env=env, cwd=ROOT)
            try:
                time.sleep(3)
                for name in UNDER_SCRAPES:
                    result = load(
                        server.base + ENDPOINTS[name], seconds=max(args.seconds, 15), connections=32, encoding="br"
                    )
                    scraped.append((name, ENDPOINTS[name], result))
                    log(f"{ENDPOINTS[name]} under scrapes: p99 {result['p99_ms']:.0f} ms")
            finally:
                stop_file.write_text("stop\n")
                worker.wait(timeout=300)
                rounds_file = stop_file.with_suffix(".rounds")
                scrape_rounds = int(rounds_file.read_text()) if rounds_file.exists() else 0
                rounds_file.unlink(missing_ok=True)
    finally:
        server.stop()

    tool = "wrk" if shutil.which("wrk") else "built-in loop"
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    cache = "Redis" if args.redis_url else "file cache"
    output.append(
        f"## make bench: gunicorn {args.workers} workers, DEBUG=0, {database}, {cache}; {tool} "
        f"-c{args.connections}, {args.seconds} s per figure, {os.cpu_count()} CPUs"
    )
    output.append(
        table(
            "Throughput: each endpoint against the same bytes as a static file (WhiteNoise, same server)",
            [
                "request",
                "encoding",
                "service req/s",
                "static req/s",
                "ratio",
                "p50 ms",
                "p99 ms",
                "static p99 ms",
                "errors",
            ],
            [
                [
                    f"`{path}`",
                    encoding,
                    f"{served['rps']:,.0f}",
                    f"{static['rps']:,.0f}",
                    f"{served['rps'] / static['rps']:.2f}x",
                    f"{served['p50_ms']:.1f}",
                    f"{served['p99_ms']:.1f}",
                    f"{static['p99_ms']:.1f}",
                    f"{served['bad'] + served['timeouts']:.0f}",
                ]
                for name, path, encoding, served, static in runs
            ],
        )
    )
    output.append(
        table(
            "Response sizes (bytes)",
            ["request", "raw", "gzip", "brotli"],
            [[f"`{ENDPOINTS[name]}`", f"{s['raw']:,}", f"{s['gzip']:,}", f"{s['br']:,}"] for name, s in sizes.items()],
        )
    )
    output.append(
        table(
            "Cold paths (median of 3, cache emptied before each)",
            ["what", "seconds", "target"],
            [
                [f"estimate over the whole catalogue `{ESTIMATE}`", f"{cold['estimate']:.3f}", "≤ 0.300"],
                ["leaderboard `/`", f"{cold['leaderboard']:.3f}", "≤ 0.300"],
                [
                    f"LiteLLM capture ({ingest['records']:.0f} records) into an empty SQLite database",
                    f"{ingest['empty']:.3f}",
                    "≤ 1.000",
                ],
                ["the same again, unchanged", f"{ingest['unchanged']:.3f}", "≤ 0.500"],
            ],
        )
    )
    if scraped:
        output.append(
            table(
                f"Under load with a scrape looping in a worker (32 connections, brotli; {scrape_rounds} scrapes "
                "committed and warmed meanwhile)",
                ["request", "req/s", "p50 ms", "p99 ms", "target p99", "errors"],
                [
                    [
                        f"`{path}`",
                        f"{r['rps']:,.0f}",
                        f"{r['p50_ms']:.1f}",
                        f"{r['p99_ms']:.1f}",
                        "< 500",
                        f"{r['bad'] + r['timeouts']:.0f}",
                    ]
                    for name, path, r in scraped
                ],
            )
        )
    print("\n".join(output))


if __name__ == "__main__":
    main()
