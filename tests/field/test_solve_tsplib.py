"""The solve_tsplib command on a small instance written here."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

# A 4 x 3 grid with 10 units between neighbours: an even grid has a tour using only
# unit edges, so the optimum is 12 * 10 = 120; a diagonal would cost 14.
GRID = "NAME: grid12\nTYPE: TSP\nDIMENSION: 12\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
GRID += "".join(f"{i * 3 + j + 1} {i * 10} {j * 10}\n" for i in range(4) for j in range(3))
GRID += "EOF\n"

SMALL_CVRP = """NAME: tiny-n5-k2
TYPE: CVRP
DIMENSION: 5
EDGE_WEIGHT_TYPE: EUC_2D
CAPACITY: 10
NODE_COORD_SECTION
1 0 0
2 10 0
3 20 0
4 0 10
5 0 20
DEMAND_SECTION
1 0
2 5
3 5
4 5
5 5
DEPOT_SECTION
1
-1
EOF
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command("solve_tsplib", *args, stdout=out)
    return out.getvalue()


def test_prints_the_tour_length(tmp_path: Path) -> None:
    path = tmp_path / "grid12.tsp"
    path.write_text(GRID)
    assert run(str(path), "--seconds", "0.3").strip() == "120"


def test_json_has_length_seconds_and_name(tmp_path: Path) -> None:
    path = tmp_path / "grid12.tsp"
    path.write_text(GRID)
    result = json.loads(run(str(path), "--seconds", "0.3", "--json"))
    assert result["length"] == 120
    assert result["name"] == "grid12"
    assert result["nodes"] == 12
    assert 0 < result["seconds"] < 5


def test_cvrp_two_out_and_back_routes(tmp_path: Path) -> None:
    path = tmp_path / "tiny.vrp"
    path.write_text(SMALL_CVRP)
    result = json.loads(run(str(path), "--seconds", "0.3", "--json"))
    # Capacity 10 pairs the two eastern and the two northern nodes: 2 * (20 + 20).
    assert result["length"] == 80
    assert result["routes"] == 2


def test_unsupported_file_is_a_command_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsp"
    path.write_text("NAME: x\nTYPE: HCP\nDIMENSION: 3\nEOF\n")
    with pytest.raises(CommandError, match="only TSP and CVRP"):
        run(str(path))
