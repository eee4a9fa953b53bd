"""Drill: ``kill -9`` of a Celery pool process in the middle of a scrape, with a real worker.

The task is acknowledged late, so the broker hands it out again; the redelivered task meets the dead
run's lease and retries when the lease ends (it used to be logged "busy" and acked as a success); the
retry takes the expired lease, closes the dead run as abandoned, and the scrape completes. Nothing of
the killed run was applied.

The worker runs on a database of its own (a SQLite file, or a fresh PostgreSQL database when the suite
runs on PostgreSQL) and a broker of its own (a redis-server on a spare port, else the filesystem broker).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from tests.faults.servers import RedisServer

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 8
pytestmark = pytest.mark.slow


class Database:
    """The worker's database and a way for the test to read it without Django."""

    def __init__(self, tmp_path: Path) -> None:
        suite_url = os.environ.get("DATABASE_URL", "")
        self.postgres = suite_url.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            import psycopg

            self.name = f"tp_drill_{uuid.uuid4().hex[:8]}"
            self.server = suite_url.rsplit("/", 1)[0]
            with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = f"{self.server}/{self.name}"
        else:
            self.path = tmp_path / "db.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return list(conn.execute(sql).fetchall())
        with sqlite3.connect(self.path, timeout=30) as conn:
            return conn.execute(sql).fetchall()

    def drop(self) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[dict[str, Any]]:
    database = Database(tmp_path)
    broker = None
    try:
        broker = RedisServer(tmp_path)
        broker.start()
        broker_url = broker.url
    except pytest.skip.Exception:
        broker_url = "filesystem://"
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DEBUG="1",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=database.url,
        CELERY_BROKER_URL=broker_url,
        SCRAPE_LEASE_SECONDS=str(LEASE_SECONDS),
        DJANGO_SETTINGS_MODULE="pricing.settings",
        DRILL_MARKER=str(tmp_path / "killed-pid"),
        DRILL_PAGE=str(ROOT / "tests" / "fixtures" / "providers" / "openrouter" / "models.json"),
        LOG_LEVEL="WARNING",
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    log = (tmp_path / "worker.log").open("w")
    command = [sys.executable, "-m", "celery", "-A", "tests.faults.worker_app", "worker", "--pool=prefork"]
    command += ["--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    command += ["-n", f"drill-{uuid.uuid4().hex[:6]}@%h"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    options = {}
    if broker_url == "filesystem://":
        folder = str(tmp_path / "broker" / "queue")
        options = {"data_folder_in": folder, "data_folder_out": folder}
    sender = Celery("drill", broker=broker_url, broker_transport_options=options)
    try:
        yield {
            "database": database,
            "sender": sender,
            "marker": tmp_path / "killed-pid",
            "log": tmp_path / "worker.log",
        }
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        log.close()
        if broker is not None:
            broker.stop()
        database.drop()


def wait_for(check, *, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")


def test_a_scrape_whose_worker_is_killed_mid_run_completes_afterwards_and_the_dead_run_is_closed(drill):
    database, marker, log = drill["database"], drill["marker"], drill["log"]
    drill["sender"].send_task("pricing.tasks.scrape_source", args=["openrouter"])

    pid = int(wait_for(lambda: marker.exists() and marker.read_text(), timeout=60, what="the run to start", log=log))
    running = database.rows("SELECT id, status FROM pricing_scraperun")
    assert [status for _, status in running] == ["running"]
    os.kill(pid, signal.SIGKILL)  # the pool process, in the middle of the run, holding the lease
    killed_at = time.monotonic()

    def finished():
        rows = database.rows("SELECT status FROM pricing_scraperun WHERE status = 'succeeded'")
        return rows

    wait_for(finished, timeout=90, what="the redelivered scrape to succeed", log=log)
    took = time.monotonic() - killed_at

    runs = database.rows("SELECT id, status, error, created FROM pricing_scraperun ORDER BY id")
    dead, done = runs[0], runs[-1]
    assert dead[0] == running[0][0]
    assert dead[1] == "failed" and dead[2].startswith("abandoned:")
    assert done[1] == "succeeded" and done[3] == 37
    assert [r[1] for r in runs].count("running") == 0
    assert [r[1] for r in runs].count("succeeded") == 1
    # Nothing of the killed run landed; everything of the completed one did.
    assert database.rows(f"SELECT COUNT(*) FROM pricing_price WHERE run_id = {dead[0]}") == [(0,)]
    assert database.rows(f"SELECT COUNT(*) FROM pricing_price WHERE run_id = {done[0]}") == [(37,)]
    assert database.rows("SELECT lock_token FROM pricing_source WHERE slug = 'openrouter'") == [("",)]
    # It waited for the dead run's lease instead of giving up on the scrape.
    assert "Retry in" in log.read_text()
    assert took < LEASE_SECONDS + 30
