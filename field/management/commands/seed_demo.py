"""``python manage.py seed_demo``: the synthetic demo of สพป.ขอนแก่น เขต 1.

Places villages, clusters, schools, teams, volunteers and one login per role on
the real tambons of Khon Kaen (import them first), writes the registry files
(population, enrolment registers, truth.json) to ``settings.DEMO_DIR``, imports
them and runs find_unreached for 2568. The same run twice gives the same rows
and byte-identical files; field work recorded in between is kept.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from field.demo import config
from field.demo.generate import generate
from field.demo.load import MissingBoundaries, load, read_tambons
from field.demo.people import LOGINS
from field.demo.writers import write_files
from field.models import ImportKind, ImportRun, ImportStatus
from field.services.imports import import_file
from field.services.reconcile import reconcile
from field.services.stats import stats_refresh_changed
from field.services.zones import zones_rebuild
from field.zone_selectors import load_zones
from geo.models import District


class Command(BaseCommand):
    help = (
        "Seed a SYNTHETIC demo (villages, schools, teams, volunteers, logins) on the real "
        "tambons of Khon Kaen districts 4001-4003, and write its registry files to DEMO_DIR."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--print-logins", action="store_true", help="only print the demo logins"
        )
        parser.add_argument(
            "--no-registries",
            action="store_true",
            help="write the registry files without importing them or running find_unreached",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_logins"]:
            self._print_logins()
            return
        started = time.monotonic()
        try:
            tambons = read_tambons()
        except MissingBoundaries as exc:
            raise CommandError(str(exc)) from exc
        data = generate(tambons)
        loaded = load(data)
        directory = Path(settings.DEMO_DIR)
        write_files(data, directory)
        if not options["no_registries"]:
            self._import_registries(directory)
        truth = data.truth
        lines = [
            ("villages", loaded.villages),
            ("village clusters", loaded.clusters),
            ("schools (small)", f"{loaded.schools} ({truth['schools']['small']})"),  # type: ignore[index]
            ("search teams", loaded.teams),
            ("volunteers", loaded.volunteers),
            ("households", len(data.households)),
            ("children aged 3-18", truth["in_window"]),
            ("  never enrolled", truth["never_enrolled"]),
            ("  dropped out", truth["dropped_out"]),
            ("  graduated", truth["graduated"]),
            ("  stateless", truth["stateless"]["total"]),  # type: ignore[index]
            ("children outside 3-18", truth["outside_window"]["total"]),  # type: ignore[index]
            ("enrolment rows", len(data.enrolment)),
        ]
        self.stdout.write(self.style.SUCCESS("SYNTHETIC demo data seeded (not real people)."))
        for label, value in lines:
            self.stdout.write(f"{label:<24}{value}")
        self.stdout.write(f"files in {directory}")
        self._print_logins()
        self.stdout.write(f"done in {time.monotonic() - started:.1f} s")

    def _import_registries(self, directory: Path) -> None:
        """Imports the written files the way a coordinator would, then reconciles,
        so that the demo opens with its cases and its funnel."""
        population = import_file(kind=ImportKind.POPULATION, path=directory / "population.csv")
        self._report(population)
        for path in sorted(directory.glob("enrolment_*.csv")):
            affiliation = path.stem.removeprefix("enrolment_")
            self._report(import_file(kind=ImportKind.ENROLMENT, path=path, affiliation=affiliation))
        counts = reconcile(academic_year=config.ACADEMIC_YEAR).counts
        self.stdout.write(
            f"find_unreached {config.ACADEMIC_YEAR}: {counts['in_window']} in the window, "
            f"{counts['unreached']} unreached, {counts['open_cases']} open cases"
        )
        for district in District.objects.filter(code__in=config.DISTRICTS).order_by("code"):
            zones_rebuild(district=district, by=None)
            zones = load_zones(district)
            zoned = sum(1 for h in zones.households if h.volunteer is not None)
            self.stdout.write(
                f"volunteer zones {district.code}: {zoned} of {len(zones.households)} "
                f"households with open cases in a zone, "
                f"{len(zones.households) - zoned} beyond reach or beyond capacity"
            )
        # The officials' map and dashboard read counts made ahead, not the cases.
        stats = stats_refresh_changed(academic_year=config.ACADEMIC_YEAR)
        self.stdout.write(
            f"area statistics {config.ACADEMIC_YEAR}: {stats.rows_written} rows "
            f"({stats.tambons_recounted} tambons) in {stats.seconds:.1f} s"
        )

    def _report(self, run: ImportRun) -> None:
        if run.status != ImportStatus.DONE:
            raise CommandError(f"{run.file_name} was not imported: {run.error}")
        self.stdout.write(
            f"imported {run.file_name}: {run.imported} new or changed, {run.unchanged} unchanged"
        )

    def _print_logins(self) -> None:
        self.stdout.write(f"{'username':<14}{'role':<16}password")
        for login in LOGINS:
            self.stdout.write(f"{login.username:<14}{login.role.value:<16}{config.DEMO_PASSWORD}")
