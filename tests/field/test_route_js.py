"""The tablet's offline re-planning (static/field/tablet/route.js), tested by node's
own runner: tests/js/route.test.mjs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1] / "js"


def test_the_offline_route_heuristic() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the tablet's JavaScript tests (apt-get install nodejs)")
    run = subprocess.run(  # noqa: S603 - a fixed command on the repository's own files
        [node, "--test", str(TESTS)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
