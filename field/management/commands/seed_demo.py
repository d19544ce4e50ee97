"""``python manage.py seed_demo``: the synthetic demo of สพป.ขอนแก่น เขต 1.

Places villages, clusters, schools, teams, volunteers and one login per role on
the real tambons of Khon Kaen (import them first), and writes the registry files
(population, enrolment registers, truth.json) to ``settings.DEMO_DIR``. The same
run twice gives the same rows and byte-identical files.
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


class Command(BaseCommand):
    help = (
        "Seed a SYNTHETIC demo (villages, schools, teams, volunteers, logins) on the real "
        "tambons of Khon Kaen districts 4001-4003, and write its registry files to DEMO_DIR."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--print-logins", action="store_true", help="only print the demo logins"
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

    def _print_logins(self) -> None:
        self.stdout.write(f"{'username':<14}{'role':<16}password")
        for login in LOGINS:
            self.stdout.write(f"{login.username:<14}{login.role.value:<16}{config.DEMO_PASSWORD}")
