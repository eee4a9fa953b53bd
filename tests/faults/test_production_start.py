"""Fault drill: a checkout switched to production mode without ``collectstatic`` refuses to start,
saying what to run, instead of answering 500 on every page; once collected, it starts and serves."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.faults.production import ROOT, collect_static, manage, production_env
from tests.faults.servers import spare_port

pytestmark = pytest.mark.slow

COMMAND = "manage.py collectstatic --no-input"


def gunicorn(var_dir: Path, port: int) -> subprocess.Popen[str]:
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("gunicorn is not installed")
    return subprocess.Popen(
        [binary, "pricing.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"],
        cwd=ROOT,
        env=production_env(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_check_deploy_says_what_to_run_when_nothing_was_collected(tmp_path):
    done = manage("check", "--deploy", var_dir=tmp_path)
    assert done.returncode != 0
    assert "pricing.E001" in done.stderr and "static files are not collected" in done.stderr
    assert COMMAND in done.stderr


def test_the_server_refuses_to_start_without_collected_static_files(tmp_path):
    server = gunicorn(tmp_path, spare_port())
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode != 0  # gunicorn stops when its worker cannot load the app
    assert "static files are not collected" in output and COMMAND in output


def test_a_manifest_older_than_the_code_is_named_with_its_first_missing_file(tmp_path):
    collect_static(tmp_path)
    manifest = tmp_path / "static" / "staticfiles.json"
    content = json.loads(manifest.read_text())
    del content["paths"]["pricing/site.css"]
    manifest.write_text(json.dumps(content))
    done = manage("check", "--deploy", var_dir=tmp_path)
    assert done.returncode != 0
    assert "pricing.E002" in done.stderr and "not in" in done.stderr and COMMAND in done.stderr


def test_once_collected_it_passes_the_check_starts_and_serves_pages(tmp_path):
    collect_static(tmp_path)
    assert manage("migrate", "--no-input", "-v0", var_dir=tmp_path).returncode == 0
    checked = manage("check", "--deploy", "--fail-level", "ERROR", var_dir=tmp_path)
    assert checked.returncode == 0, checked.stderr

    port = spare_port()
    server = gunicorn(tmp_path, port)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = get(f"http://127.0.0.1:{port}/methodology/")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200
        assert get(f"http://127.0.0.1:{port}/") == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
