"""scripts/localdb.sh: the project's own PostgreSQL + PostGIS cluster.

The README commands fall back to it on machines where no usable server answers on
127.0.0.1:5432, so it is exercised for real: initdb, start, PostGIS, stop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "localdb.sh"
PG_BIN = Path("/usr/lib/postgresql/15/bin")

pytestmark = pytest.mark.skipif(
    not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 (initdb) is not installed"
)


@dataclass(frozen=True)
class Cluster:
    pgdata: Path
    port: int
    env: dict[str, str] = field(repr=False)  # keeps the environment out of failure output

    def script(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def psql(self, database: str, sql: str) -> str:
        connect = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
        result = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-w", "-tA", "-v", "ON_ERROR_STOP=1", *connect, "-c", sql],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"psql {sql!r} failed: {result.stderr}"
        return result.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Directly under /tmp, not pytest's tmp_path: when the suite runs as root the server
    # runs as another user, who cannot enter root's private pytest-of-root directory.
    pgdata = Path(tempfile.mkdtemp(prefix="takhai-localdb-", dir="/tmp"))  # noqa: S108
    port = _free_port()
    env = {
        **os.environ,
        "TAKHAI_DB": "local",
        "TAKHAI_LOCAL_PG_DIR": str(pgdata),
        "TAKHAI_LOCAL_PG_PORT": str(port),
    }
    env.pop("DATABASE_URL", None)
    found = Cluster(pgdata=pgdata, port=port, env=env)
    yield found
    # Neither a failed assertion nor a broken `stop` may leave a server running.
    found.script("stop")
    _interrupt_postmaster(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)


def _interrupt_postmaster(pgdata: Path) -> None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    for _ in range(100):
        if not pid_file.exists():
            return
        time.sleep(0.1)


def test_start_serves_postgis_on_loopback_and_stop_ends_the_server(cluster: Cluster) -> None:
    started = cluster.script("start")
    assert started.returncode == 0, started.stderr
    assert (cluster.pgdata / "PG_VERSION").read_text().strip() == "15"
    assert _port_open(cluster.port)

    url = cluster.script("url")
    assert url.stdout.strip() == f"postgres://postgres@127.0.0.1:{cluster.port}/takhai"
    assert cluster.script("status").returncode == 0

    assert cluster.psql("takhai", "SHOW listen_addresses") == "127.0.0.1"
    assert cluster.psql("takhai", "SHOW unix_socket_directories") == str(cluster.pgdata)
    # start made the demo database with PostGIS already in it
    assert cluster.psql(
        "takhai", "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
    ).startswith("3.")
    if os.geteuid() == 0:
        assert cluster.pgdata.owner() != "root", "the server must not run as root"

    # a fresh database: the plain CREATE EXTENSION must work, as pytest-django's will
    cluster.psql("postgres", "CREATE DATABASE probe")
    cluster.psql("probe", "CREATE EXTENSION postgis")
    assert cluster.psql("probe", "SELECT postgis_full_version()").startswith('POSTGIS="3.')
    assert cluster.psql("probe", "SELECT ST_AsText(ST_MakePoint(100.5, 13.75))") == (
        "POINT(100.5 13.75)"
    )

    again = cluster.script("start")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stderr

    stopped = cluster.script("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not (cluster.pgdata / "postmaster.pid").exists()
    assert not _port_open(cluster.port)
    status = cluster.script("status")
    assert status.returncode == 3, status.stdout + status.stderr
    assert "no server running" in status.stdout
    assert cluster.script("stop").returncode == 0
