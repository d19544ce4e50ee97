"""solve_tsplib: one TSPLIB instance (TSP or CVRP) through the routing core."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geo.algorithms import tsplib
from geo.algorithms.routing import solve_tour


class Command(BaseCommand):
    help = (
        "Solves a TSPLIB TSP or CVRP file with the same solvers as the day plans and "
        "prints the tour length, or one JSON object with --json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a TSPLIB .tsp or .vrp file")
        parser.add_argument("--seconds", type=float, default=1.8, help="search budget (1.8)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            instance = tsplib.read(options["file"])
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
        except (tsplib.TsplibError, ValueError, IndexError) as exc:
            raise CommandError(f"{options['file']}: {exc}") from exc
        if options["seconds"] <= 0:
            raise CommandError("--seconds must be positive")
        matrix = tsplib.distance_matrix(instance)
        result = solve_tour(
            matrix,
            seconds=options["seconds"],
            depot=instance.depot,
            demands=instance.demands,
            capacity=instance.capacity,
            vehicles=instance.vehicles,
            seed=options["seed"],
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "name": instance.name,
                        "type": instance.kind,
                        "nodes": instance.dimension,
                        "edge_weight_type": instance.edge_weight_type,
                        "length": result.length,
                        "routes": len(result.routes),
                        "seconds": round(result.seconds, 3),
                        "solver": result.solver,
                    }
                )
            )
        else:
            self.stdout.write(str(result.length))
