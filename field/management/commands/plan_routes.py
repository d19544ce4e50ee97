"""plan_routes: the day plans of every search team of an area (and its volunteers)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q, QuerySet

from field.models import RoutePlan, Team, TravelMode, Volunteer
from field.services.routes import route_plan_create


def _time(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a time (HH:MM)") from exc


def _summary(plan: RoutePlan) -> dict[str, Any]:
    routes = plan.solver.get("routes", [])
    # The day's length is its longest member's, from leaving the base to being back,
    # as the route page shows it.
    longest = max((r["back"] - r["departure"] for r in routes if r["distance_m"]), default=0)
    row: dict[str, Any] = {"plan": plan.pk}
    if plan.team is not None:
        row["team"] = {"id": plan.team.pk, "name": plan.team.name}
    elif plan.volunteer is not None:
        row["volunteer"] = {"id": plan.volunteer.pk, "name": plan.volunteer.name}
    row |= {
        "members": len(routes),
        "visits": plan.stops.count(),
        "unplanned": plan.unplanned.count(),
        "distance_m": int(plan.solver.get("distance_m", 0)),
        "duration_s": int(longest),
        "spread": float(plan.solver.get("spread", 1.0)),
    }
    return row


class Command(BaseCommand):
    help = (
        "Plans one day of home visits for every search team (of a district, or the one "
        "named), and with --volunteers for every active volunteer too; a new plan "
        "replaces that day's old one. Prints a summary, or one JSON object with --json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", required=True, help="the day, YYYY-MM-DD")
        parser.add_argument("--team", help="one team, by id or name (default: every team)")
        parser.add_argument("--district", help="only the teams and volunteers of this district")
        parser.add_argument("--volunteers", action="store_true", help="plan volunteers too")
        parser.add_argument(
            "--mode", choices=TravelMode.values, default=TravelMode.MOTORCYCLE.value
        )
        parser.add_argument("--starts", default="08:30", help="start of the working day (08:30)")
        parser.add_argument("--ends", default="16:30", help="end of the working day (16:30)")
        parser.add_argument("--service-minutes", type=int, default=30, help="per visit (30)")
        parser.add_argument("--circuity", type=float, help="default TAKHAI_ROUTE_CIRCUITY")
        parser.add_argument("--seconds", type=float, help="solver budget per plan")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def _teams(self, options: dict[str, Any]) -> QuerySet[Team]:
        teams = Team.objects.order_by("name")
        if options["district"]:
            teams = teams.filter(district_id=options["district"])
        if options["team"]:
            key = str(options["team"])
            teams = teams.filter(Q(name=key) | Q(pk=int(key)) if key.isdigit() else Q(name=key))
            if not teams.exists():
                raise CommandError(f"no team {key!r}")
        return teams

    def _volunteers(self, options: dict[str, Any], day: dt.date) -> QuerySet[Volunteer]:
        volunteers = Volunteer.objects.filter(active_from__lte=day).filter(
            Q(active_to__isnull=True) | Q(active_to__gte=day)
        )
        if options["district"]:
            volunteers = volunteers.filter(
                village__subdistrict__code__startswith=options["district"]
            )
        return volunteers.order_by("name", "pk")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = dt.date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(f"--date {options['date']!r} is not YYYY-MM-DD") from exc
        common: dict[str, Any] = {
            "day": day,
            "mode": TravelMode(options["mode"]),
            "starts": _time(options["starts"]),
            "ends": _time(options["ends"]),
            "service_minutes": options["service_minutes"],
            "circuity": options["circuity"],
            "seconds": options["seconds"],
            "by": None,
        }
        subjects: list[dict[str, Any]] = [{"team": team} for team in self._teams(options)]
        if options["volunteers"] and not options["team"]:
            subjects += [{"volunteer": v} for v in self._volunteers(options, day)]
        t0 = time.perf_counter()
        plans: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        for subject in subjects:
            who = subject.get("team") or subject["volunteer"]
            kind = "team" if "team" in subject else "volunteer"
            try:
                plan = route_plan_create(**subject, **common)
            except ValidationError as error:
                skipped.append(
                    {kind: {"id": who.pk, "name": who.name}, "reason": " ".join(error.messages)}
                )
                continue
            plans.append(_summary(plan))
        seconds = round(time.perf_counter() - t0, 3)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "date": day.isoformat(),
                        "plans": plans,
                        "skipped": skipped,
                        "seconds": seconds,
                    },
                    ensure_ascii=False,
                )
            )
            return
        for row in plans:
            name = (row.get("team") or row.get("volunteer") or {}).get("name", "")
            self.stdout.write(
                f"{name}: {row['visits']} visits, {row['unplanned']} not planned, "
                f"{row['distance_m'] / 1000:.1f} km, {row['duration_s'] // 60} min "
                f"(plan {row['plan']})"
            )
        for row in skipped:
            name = (row.get("team") or row.get("volunteer") or {}).get("name", "")
            self.stdout.write(f"{name}: not planned: {row['reason']}")
        self.stdout.write(f"{len(plans)} plans for {day.isoformat()} in {seconds:.1f} s")
