from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geo.boundaries import BoundaryFileError, download_boundaries, import_boundaries


class Command(BaseCommand):
    help = (
        "Import province, district and tambon boundaries from OCHA COD-AB files "
        "(GeoJSON or shapefile, ADMn_PCODE/ADMn_TH/ADMn_EN). Upserts by DOPA code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help="boundary files, any level, any order")
        parser.add_argument("--url", help="download (once, then cached) a COD-AB file or zip")
        parser.add_argument("--refresh", action="store_true", help="download --url again")
        parser.add_argument("--only", metavar="PROVINCE", help="keep one province (2-digit code)")

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[str] = list(options["paths"])
        if options["url"]:
            try:
                paths += download_boundaries(options["url"], refresh=options["refresh"])
            except (OSError, BoundaryFileError) as exc:
                raise CommandError(f"cannot download {options['url']}: {exc}") from exc
        if not paths:
            raise CommandError("give boundary files, or --url to download them")
        only = options["only"]
        if only is not None and not (len(only) == 2 and only.isdigit()):
            raise CommandError(f"--only {only!r}: a province is a 2-digit DOPA code, e.g. 40")
        try:
            report = import_boundaries(paths, only_province=only, progress=self.stderr.write)
        except BoundaryFileError as exc:
            raise CommandError(f"{exc} (nothing was imported)") from exc
        for repair in report.repairs:
            self.stdout.write(self.style.WARNING(str(repair)))
        for level, counts in report.counts.items():
            self.stdout.write(
                f"{level.value}: {counts.created} created, {counts.updated} updated, "
                f"{counts.unchanged} unchanged"
            )
        self.stdout.write(
            f"{report.changed} changes, {len(report.repairs)} repairs, {len(report.files)} files"
        )
