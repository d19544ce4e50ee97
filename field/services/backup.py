"""Backups of the whole database with pg_dump, restores with pg_restore, and a
manifest that proves a restore gave back what was backed up.

The manifest (``<dump>.json``, beside the dump) holds the dump's SHA-256, the
latest applied migration per app, the user triggers, and per table a row count
and a checksum, all read **in the snapshot pg_dump dumps**: the command opens a
REPEATABLE READ transaction, exports its snapshot and hands it to
``pg_dump --snapshot``, then counts in that same transaction, so writes made
while the dump runs can make neither disagree with the other.

The table checksum is the sum, as an exact numeric, of the first 64 bits of
``md5(row::text)`` over the rows: a multiset hash. Unlike
``md5(string_agg(row::text, '' ORDER BY pk))`` it needs no sort and no memory in
proportion to the table (one sequential scan per table, which matters for the
million-row case and child tables) and it does not depend on the physical order
of the rows, which a restore changes. A changed, missing or extra row changes it
but for a 2^-64 chance. It is not a defence against a forger, who could tune a
row to keep the sum; the dump's SHA-256 is that defence, and the table checksums
prove the restore reproduced the rows. ``row::text`` is pinned by fixing the
session's TimeZone, DateStyle, IntervalStyle, extra_float_digits and
bytea_output for the count.

Passwords go to pg_dump and pg_restore in ``PGPASSWORD`` only, never on a
command line, and are blanked out of anything the commands print.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError
from django.utils import timezone

MANIFEST_FORMAT = 1
CHECKSUM_METHOD = "sum(first 64 bits of md5(row::text)) as numeric"
# A restore waits this long at most for a lock (a running web worker holds some)
# before it gives up and rolls back, rather than hang.
RESTORE_LOCK_TIMEOUT = "60s"

_PINNED_OUTPUT = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
)

# Ordinary tables outside the system schemas, less those an extension owns
# (PostGIS's spatial_ref_sys: its rows come with the extension's version).
_TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY n.nspname, c.relname
"""

_TRIGGERS_SQL = """
SELECT n.nspname || '.' || c.relname, t.tgname, t.tgenabled
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
"""

_MIGRATIONS_SQL = """
SELECT DISTINCT ON (app) app, name FROM django_migrations ORDER BY app, id DESC
"""


# Django's OPTIONS that libpq also reads from the environment.
_LIBPQ_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is safe to print."""


@dataclass(frozen=True)
class TableState:
    rows: int
    checksum: str


@dataclass
class DatabaseState:
    tables: dict[str, TableState] = field(default_factory=dict)
    triggers: list[str] = field(default_factory=list)
    migrations: dict[str, str] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


@dataclass(frozen=True)
class BackupResult:
    dump: Path
    manifest: Path
    sha256: str
    size: int
    state: DatabaseState
    seconds: float


@dataclass(frozen=True)
class RestoreResult:
    dump: Path
    database: str
    state: DatabaseState
    unapplied_migrations: int
    seconds: float


# --- connection details -------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    alias: str
    name: str
    user: str
    password: str
    host: str
    port: str
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, alias: str = DEFAULT_DB_ALIAS) -> Target:
        conf = connections[alias].settings_dict
        return cls(
            alias=alias,
            name=str(conf.get("NAME") or ""),
            user=str(conf.get("USER") or ""),
            password=str(conf.get("PASSWORD") or ""),
            host=str(conf.get("HOST") or ""),
            port=str(conf.get("PORT") or ""),
            options={str(k): str(v) for k, v in (conf.get("OPTIONS") or {}).items()},
        )

    def args(self) -> list[str]:
        """libpq options for pg_dump and pg_restore: no password among them."""
        args = []
        if self.host:
            args += ["--host", self.host]
        if self.port:
            args += ["--port", self.port]
        if self.user:
            args += ["--username", self.user]
        return [*args, "--no-password"]

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for pg_dump and pg_restore: ours (so PGPASSWORD, PGSSLMODE
        or a ~/.pgpass that Django's own connection relies on work for them too),
        plus the configured password and the libpq TLS options Django passes."""
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        for option, variable in _LIBPQ_ENV.items():
            if option in self.options:
                env[variable] = self.options[option]
        env.update(extra)
        return env

    def scrub(self, text: str) -> str:
        return text.replace(self.password, "********") if self.password else text


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL 15 client tools "
            "(Debian: apt-get install postgresql-client-15)"
        )
    return path


def _reachable(target: Target) -> None:
    try:
        connections[target.alias].ensure_connection()
    except OperationalError as error:
        where = f"{target.host or 'local socket'}:{target.port or '5432'}"
        raise BackupError(
            f"database {target.name!r} at {where} is unreachable: "
            + target.scrub(str(error).strip().splitlines()[0] if str(error).strip() else "")
        ) from None


def _run(target: Target, argv: list[str], **kwargs: Any) -> None:
    result = subprocess.run(  # noqa: S603 - a fixed tool, arguments as a list
        argv, env=kwargs.pop("env", target.env()), capture_output=False, check=False, **kwargs
    )
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace") if result.stderr else ""
        raise BackupError(
            f"{Path(argv[0]).name} failed (exit {result.returncode}): "
            + target.scrub(stderr.strip() or "no message")
        )


# --- reading the database's state ----------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_state(alias: str) -> DatabaseState:
    """Counts, checksums, triggers and migrations, in the caller's transaction."""
    state = DatabaseState()
    with connections[alias].cursor() as cursor:
        for statement in _PINNED_OUTPUT:
            cursor.execute(statement)
        cursor.execute(_TABLES_SQL)
        tables = [(str(schema), str(name)) for schema, name in cursor.fetchall()]
        for schema, name in tables:
            # The names come from pg_class, quoted as identifiers.
            cursor.execute(
                "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))"  # noqa: S608
                f"::bit(64)::bigint::numeric), 0)::text FROM {_quote(schema)}.{_quote(name)} AS t"
            )
            rows, checksum = cursor.fetchone() or (0, "0")
            state.tables[f"{schema}.{name}"] = TableState(rows=int(rows), checksum=str(checksum))
        cursor.execute(_TRIGGERS_SQL)
        state.triggers = [f"{table}:{name}:{enabled}" for table, name, enabled in cursor.fetchall()]
        if "public.django_migrations" in state.tables:
            cursor.execute(_MIGRATIONS_SQL)
            state.migrations = {str(app): str(name) for app, name in cursor.fetchall()}
    return state


def database_state(alias: str = DEFAULT_DB_ALIAS) -> DatabaseState:
    """The database's state now, as a manifest records it."""
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _read_state(alias)


@contextmanager
def _exported_snapshot(alias: str) -> Iterator[str]:
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
        if row is None:
            raise BackupError("the database exported no snapshot")
        yield str(row[0])


# --- files ------------------------------------------------------------------------------------


def default_backup_dir() -> Path:
    configured = getattr(settings, "BACKUP_DIR", None) or os.environ.get("TAKHAI_BACKUP_DIR")
    return Path(configured) if configured else Path(settings.BASE_DIR) / ".local" / "backups"


def default_backup_path(now: dt.datetime | None = None) -> Path:
    now = timezone.localtime(now or timezone.now())
    return default_backup_dir() / f"takhai-{now:%Y-%m-%d-%H%M%S}.dump"


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


# --- backup -----------------------------------------------------------------------------------


def backup(*, output: Path | None = None, alias: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """pg_dump -Fc of the database into ``output`` (0600, its folder 0700 when made
    here), and the manifest beside it. Refuses to overwrite a file."""
    started = timezone.now()
    target = Target.of(alias)
    pg_dump = _tool("pg_dump")
    dump = (output or default_backup_path(started)).absolute()
    manifest = manifest_path(dump)
    for path in (dump, manifest):
        if path.exists():
            raise BackupError(f"{path} exists already; choose another --output")
    if not dump.parent.exists():
        dump.parent.mkdir(mode=0o700, parents=True)
    _reachable(target)

    fd = os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out, _exported_snapshot(alias) as snapshot:
            _run(
                target,
                [pg_dump, *target.args(), "--format=custom", f"--snapshot={snapshot}", target.name],
                stdout=out,
                stderr=subprocess.PIPE,
            )
            state = _read_state(alias)
            server = connections[alias].pg_version  # type: ignore[attr-defined]
    except BaseException:
        dump.unlink(missing_ok=True)
        raise
    sha256 = file_sha256(dump)
    size = dump.stat().st_size
    record = {
        "format": MANIFEST_FORMAT,
        "created_at": started.isoformat(),
        "database": target.name,
        "server_version_num": server,
        "dump_file": dump.name,
        "dump_bytes": size,
        "dump_sha256": sha256,
        "migrations": state.migrations,
        "triggers": state.triggers,
        "checksum_method": CHECKSUM_METHOD,
        "tables": {
            name: {"rows": t.rows, "checksum": t.checksum} for name, t in state.tables.items()
        },
    }
    _write_private(manifest, json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    return BackupResult(
        dump=dump,
        manifest=manifest,
        sha256=sha256,
        size=size,
        state=state,
        seconds=(timezone.now() - started).total_seconds(),
    )


# --- restore ----------------------------------------------------------------------------------


def read_manifest(dump: Path, manifest: Path | None = None) -> dict[str, Any]:
    """The manifest of ``dump``, after checking the dump's SHA-256 against it."""
    if not dump.is_file():
        raise BackupError(f"backup file {dump} not found")
    manifest = manifest or manifest_path(dump)
    if not manifest.is_file():
        raise BackupError(
            f"manifest {manifest} not found: a dump is restored only with its manifest"
        )
    try:
        record: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        expected = str(record["dump_sha256"])
        record["tables"] = {
            str(k): TableState(rows=int(v["rows"]), checksum=str(v["checksum"]))
            for k, v in record["tables"].items()
        }
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(
            f"manifest {manifest} is not a Takhai backup manifest ({error})"
        ) from None
    if record.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"manifest {manifest}: unknown format {record.get('format')!r}")
    actual = file_sha256(dump)
    if actual != expected:
        raise BackupError(
            f"checksum mismatch: {dump} has SHA-256 {actual}, its manifest says {expected}; "
            "the file is damaged or was altered. Nothing was restored."
        )
    return record


def compare(record: dict[str, Any], state: DatabaseState) -> list[str]:
    """Each difference between the manifest and the database, as a sentence."""
    problems = []
    expected: dict[str, TableState] = record["tables"]
    for name, want in expected.items():
        got = state.tables.get(name)
        if got is None:
            problems.append(f"table {name} is missing")
        elif got.rows != want.rows:
            problems.append(f"table {name}: {got.rows} rows, the backup had {want.rows}")
        elif got.checksum != want.checksum:
            problems.append(f"table {name}: checksum differs from the backup's ({got.rows} rows)")
    for name in sorted(set(state.tables) - set(expected)):
        problems.append(f"table {name} is not in the backup (left over from before the restore)")
    for trigger in sorted(set(record.get("triggers", [])) - set(state.triggers)):
        problems.append(f"trigger {trigger} is missing or not enabled as it was")
    if state.migrations != record.get("migrations", {}):
        problems.append("the applied migrations differ from the backup's")
    return problems


def _unapplied_migrations(alias: str) -> int:
    executor = MigrationExecutor(connections[alias])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def restore(
    *,
    dump: Path,
    manifest: Path | None = None,
    alias: str = DEFAULT_DB_ALIAS,
    record: dict[str, Any] | None = None,
) -> RestoreResult:
    """Replaces the database's contents with the dump, in one transaction, then
    checks every table against the manifest. ``record``: what ``read_manifest``
    returned for this dump just before, to spare hashing it twice.

    In place rather than into a new database swapped in afterwards: the swap needs
    CREATEDB, no session left on either database and a rename, which the operator
    is better placed to do by hand (docs/deploy.md). In place, ``--single-transaction``
    makes it all or nothing: on any error (a lock not granted within
    ``RESTORE_LOCK_TIMEOUT``, a role missing) the database is left as it was.
    ``--clean`` drops only what the dump holds: a table made by a later migration
    survives, and the check after the restore names it."""
    started = timezone.now()
    if record is None:
        record = read_manifest(dump, manifest)
    target = Target.of(alias)
    pg_restore = _tool("pg_restore")
    _reachable(target)
    # Our own session holds no locks, but goes so that nothing of it outlives the
    # objects it knew.
    connections[alias].close()
    _run(
        target,
        [
            pg_restore,
            *target.args(),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={target.name}",
            str(dump),
        ],
        env=target.env(PGOPTIONS=f"-c lock_timeout={RESTORE_LOCK_TIMEOUT}"),
        stderr=subprocess.PIPE,
    )
    state = database_state(alias)
    problems = compare(record, state)
    if problems:
        raise BackupError(
            f"restored {dump} into {target.name!r}, but it does not match the manifest:\n  "
            + "\n  ".join(problems)
        )
    return RestoreResult(
        dump=dump,
        database=target.name,
        state=state,
        unapplied_migrations=_unapplied_migrations(alias),
        seconds=(timezone.now() - started).total_seconds(),
    )
