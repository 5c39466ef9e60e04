"""`.ci/start-postgres` starts a throwaway PostgreSQL the tests can use, and only once.

Run for real when Debian's PostgreSQL server is installed (CI installs it); the cluster
it starts here is stopped and removed at the end.
"""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "start-postgres"


def _bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)")
    return str(Path(found[-1]).parent)


def test_start_postgres_exports_a_working_url_and_is_idempotent() -> None:
    pg_ctl = Path(_bindir()) / "pg_ctl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERACITY_")}
    report = "; ".join(
        f'echo "{name}=${name}"'
        for name in (
            "VERACITY_TEST_POSTGRES_URL",
            "VERACITY_TEST_REQUIRE_POSTGRES",
            "VERACITY_TEST_POSTGRES_DATA",
        )
    )
    script = shlex.quote(str(SCRIPT))
    # sourced twice by a strict shell, as .ci/run does: the second time finds it running
    command = f"set -euo pipefail; . {script}; {report}; . {script}; {report}"
    result = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("VERACITY_")]
    values = dict(line.split("=", 1) for line in lines[:3])
    data = values.get("VERACITY_TEST_POSTGRES_DATA", "")
    try:
        assert result.returncode == 0, result.stderr + result.stdout
        assert lines[:3] == lines[3:], "sourcing it again changed the settings"
        assert "already running" in result.stdout
        url = values["VERACITY_TEST_POSTGRES_URL"]
        assert url.startswith("postgresql+psycopg://veracity:") and "@127.0.0.1:" in url
        assert values["VERACITY_TEST_REQUIRE_POSTGRES"] == "1"

        import psycopg

        from backends import libpq_url

        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            row = conn.execute("SELECT current_user, current_database()").fetchone()
            assert row == ("veracity", "veracity")
            conn.execute("CREATE SCHEMA may_create")  # the tests make a schema each
            listen = conn.execute("SHOW listen_addresses").fetchone()
            assert listen == ("127.0.0.1",)
    finally:
        if data and Path(data, "data").is_dir():
            owner = Path(data, "data").owner()
            stop = [str(pg_ctl), "-D", f"{data}/data", "-s", "-m", "immediate", "stop"]
            if os.geteuid() == 0 and owner != "root":
                stop = ["runuser", "-u", owner, "--", *stop]
            subprocess.run(stop, check=False, timeout=60)
            subprocess.run(["rm", "-rf", data], check=False)
