"""backup: pg_dump the database into a private file, with a manifest to check a restore by."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from field.services.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Dumps the whole database with pg_dump -Fc into a file readable by its owner only "
        "(by default .local/backups/takhai-<date-time>.dump) and writes <file>.json beside "
        "it: migrations, row counts and checksums per table, and the dump's SHA-256, all "
        "of the snapshot that was dumped. The dump holds personal data: encrypt it and "
        "keep it off the server (docs/deploy.md)."
    )
    # As for the other data commands: the URL checks would load every page's code.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="the dump file to write (must not exist)")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="the database alias (default: default)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup(output=options["output"], alias=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(result.dump))
        self.stdout.write(
            f"{result.size:,} bytes, sha256 {result.sha256}\n"
            f"{len(result.state.tables)} tables, {result.state.total_rows:,} rows, "
            f"in {result.seconds:.1f} s; manifest {result.manifest}"
        )
