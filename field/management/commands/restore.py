"""restore: replace the database's contents with a backup, and prove it matches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from field.services.backup import BackupError, Target, read_manifest, restore


class Command(BaseCommand):
    help = (
        "Restores a dump made by `backup` into the configured database, replacing its "
        "contents: checks the dump's SHA-256 against its manifest first, restores in one "
        "transaction (pg_restore --clean --single-transaction: on any error nothing "
        "changes), then compares every table's rows and checksum with the manifest and "
        "fails, naming the table, on any difference. Stop the web service first."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the .dump file; its manifest is <file>.json")
        parser.add_argument(
            "--manifest", type=Path, help="the manifest, if not <file>.json beside the dump"
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="really replace the database's contents (without it: check the file only)",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="the database alias (default: default)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dump: Path = options["file"]
        alias: str = options["database"]
        try:
            record = read_manifest(dump, options["manifest"])
            name = Target.of(alias).name
            self.stdout.write(
                f"{dump}: sha256 matches its manifest; backup of database "
                f"{record['database']!r} taken {record['created_at']}, "
                f"{len(record['tables'])} tables"
            )
            if not options["yes"]:
                raise CommandError(
                    f"restoring replaces everything in database {name!r}: "
                    "run again with --yes to do it"
                )
            result = restore(dump=dump, manifest=options["manifest"], alias=alias, record=record)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"restored into {result.database!r}: {len(result.state.tables)} tables, "
            f"{result.state.total_rows:,} rows, every count and checksum matches the "
            f"manifest, in {result.seconds:.1f} s"
        )
        if result.unapplied_migrations:
            self.stdout.write(
                f"the backup predates this code: {result.unapplied_migrations} migrations "
                "to apply; run `python manage.py migrate`"
            )
