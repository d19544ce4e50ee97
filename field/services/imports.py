"""Importing registry files: population, enrolment registers, schools, villages, volunteers.

An import has two phases:

1. **Reading.** Rows are streamed from the file, checked in Python and copied
   (``COPY``) into a temporary staging table of the connection, 50,000 at a time.
   The run's progress is saved as it goes, so the import page can follow it.
2. **Applying.** One transaction turns the staging table into households,
   children or enrolments with set-based SQL, and saves the report. A file goes
   in whole or not at all, and the same file imported twice changes nothing:
   every row has a key, and a row whose digest is unchanged is not written.

Work recorded in the field is never overwritten: a household placed by field
GPS keeps its point, and matches chosen by a coordinator are kept.
"""

from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import connection as mp_connection
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from field.models import (
    Affiliation,
    ImportKind,
    ImportProblem,
    ImportRun,
    ImportStatus,
    Precision,
)
from field.registry.dates import BANGKOK
from field.registry.enrolment import EnrolmentReader
from field.registry.places import (
    SCHOOL_COLUMNS,
    SCHOOL_OPTIONAL,
    VILLAGE_COLUMNS,
    VILLAGE_OPTIONAL,
    SchoolReader,
    VillageReader,
)
from field.registry.population import (
    ERROR,
    WARNING,
    AreaResolver,
    PopulationReader,
    Problem,
    boundary_name_index,
    make_area_resolver,
)
from field.registry.tables import (
    ENROLMENT_COLUMNS,
    ENROLMENT_OPTIONAL,
    POPULATION_COLUMNS,
    POPULATION_OPTIONAL,
    Part,
    TableError,
    TableStream,
    open_table,
    read_part,
    split_csv,
)
from field.registry.volunteers import VOLUNTEER_COLUMNS, VOLUNTEER_OPTIONAL, VolunteerReader
from field.services.schools import schools_place_villages
from geo.models import Subdistrict
from geo.selectors import locate_points, nearest_village_sql, subdistrict_at_sql

logger = logging.getLogger(__name__)

CHUNK_ROWS: Final = 50_000
# Only a ceiling: PostgreSQL takes the memory as the staging table grows.
TEMP_BUFFERS: Final = "512MB"
_NULL: Final = "\\N"
COPY_PIECE_BYTES: Final = 1 << 20
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ID_KINDS_WITH_VALUE: Final = "('thai_id', 'non_thai_id', 'g_code')"


class ImportRefused(Exception):
    """The whole file is refused; the run records why."""


@dataclass(frozen=True)
class StageTable:
    name: str
    columns: tuple[tuple[str, str], ...]
    """(column, SQL type), in the order the reader's tuples hold them."""

    def create(self) -> None:
        _use_large_temp_buffers()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            spec = ", ".join(f"{c} {t}" for c, t in self.columns)
            cursor.execute(f"CREATE TEMPORARY TABLE {self.name} ({spec})")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")

    def copy(self, rows: Sequence[Sequence[object]]) -> None:
        copy_rows(self.name, [c for c, _ in self.columns], rows)

    def analyze(self) -> None:
        # Temporary tables are never analysed by autovacuum: without statistics
        # the planner takes a million staged rows for a few hundred.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {self.name}")


def _use_large_temp_buffers() -> None:
    """Keeps a staging table of a million rows in memory: the default 8 MB of
    temp_buffers would write it to disk and read it back at every step.

    PostgreSQL accepts the setting only before a session's first temporary
    table; later imports in the same session keep what the first one set.
    """
    with connection.cursor() as cursor:
        cursor.execute("SHOW temp_buffers")
        if cursor.fetchone()[0] == TEMP_BUFFERS:
            return
        try:
            with transaction.atomic():
                cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
        except DatabaseError:
            logger.debug("temp_buffers already fixed for this session")


def copy_line(row: Sequence[object], width: int) -> str:
    """One row in COPY's text format, with its line break."""
    values = [_NULL if v is None else str(v) for v in row]
    line = "\t".join(values)
    # Values with a tab, newline or backslash are rare; only they pay for
    # escaping. The NULL markers are the backslashes that are expected.
    if (
        line.count("\t") != width - 1
        or line.count("\\") != values.count(_NULL)
        or "\n" in line
        or "\r" in line
    ):
        line = "\t".join([_NULL if v is None else str(v).translate(_COPY_ESCAPES) for v in row])
    return line + "\n"


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """``COPY`` rows into ``table``: ten times faster than INSERT for a million rows."""
    if not rows:
        return
    width = len(columns)
    copy_text(table, columns, "".join([copy_line(row, width) for row in rows]))


def copy_text(table: str, columns: Sequence[str], text: str | bytes) -> None:
    """``COPY`` text (or its UTF-8 bytes, as the reader processes send it) into ``table``."""
    data = text if isinstance(text, bytes) else text.encode()
    with connection.cursor() as cursor:
        cursor.copy_expert(  # psycopg2's, through Django's cursor wrapper
            f"COPY {table} ({', '.join(columns)}) FROM STDIN",
            io.BytesIO(data),
            # Bytes in large pieces: psycopg2 would otherwise call back for
            # every 8 KiB, and decode nothing it is not given as text.
            size=COPY_PIECE_BYTES,
        )


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Logs how long a step took (DJANGO_LOG_LEVEL=DEBUG): what the benchmark's
    per-step figures come from."""
    started = time.perf_counter()
    yield
    logger.debug("%s: %.2f s", step, time.perf_counter() - started)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the run -------------------------------------------------------------------------


def import_start(
    *,
    kind: ImportKind,
    path: Path,
    by: User | None,
    affiliation: str = "",
    file_name: str | None = None,
) -> ImportRun:
    """Records a run for the file at ``path``; nothing is read yet."""
    if kind == ImportKind.ENROLMENT and affiliation not in Affiliation.values:
        raise ValueError(f"an enrolment register needs an affiliation, got {affiliation!r}")
    return ImportRun.objects.create(
        kind=kind,
        affiliation=affiliation if kind == ImportKind.ENROLMENT else "",
        file_name=(file_name or path.name)[:255],
        sha256=file_sha256(path),
        size=path.stat().st_size,
        by=by,
        started_at=timezone.now(),
    )


def import_execute(*, run: ImportRun, path: Path) -> ImportRun:
    """Reads and applies the file of ``run``; a refused file leaves the run FAILED
    with its reason, and nothing else written."""
    importer = _IMPORTERS[ImportKind(run.kind)]
    try:
        counts, problems = importer(run, path)
    except (TableError, ImportRefused) as error:
        problem = (
            Problem(error.row, error.field, ERROR, error.reason)
            if isinstance(error, TableError)
            else None
        )
        return _fail(run, str(error), [problem] if problem else [])
    except Exception as error:
        log_failure(f"import {run.pk} of {run.file_name} failed", error)
        _fail(run, f"internal error ({type(error).__name__}): the file was not imported", [])
        raise
    run.refresh_from_db()
    return run


def log_failure(what: str, error: BaseException) -> None:
    """Logs where an import failed, without the error's message: database errors
    quote the offending row (a national ID, a name), which must not reach a log."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("%s: %s\n%s", what, type(error).__name__, frames)


def import_file(
    *,
    kind: ImportKind,
    path: Path,
    by: User | None = None,
    affiliation: str = "",
    file_name: str | None = None,
) -> ImportRun:
    """Starts and executes an import in one call (the commands, the tests)."""
    run = import_start(kind=kind, path=path, by=by, affiliation=affiliation, file_name=file_name)
    return import_execute(run=run, path=path)


def _fail(run: ImportRun, reason: str, problems: list[Problem]) -> ImportRun:
    run.status = ImportStatus.FAILED
    run.error = reason
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    _save_problems(run, problems)
    return run


def _progress(run: ImportRun, rows: int, bytes_read: int) -> None:
    ImportRun.objects.filter(pk=run.pk).update(rows_read=rows, bytes_read=bytes_read)


def _save_problems(run: ImportRun, problems: Iterable[Problem]) -> None:
    rows = [(run.pk, p.row, p.field[:40], p.severity, p.reason) for p in problems]
    table = ImportProblem._meta.db_table
    copy_rows(table, ("run_id", "row", "field", "severity", "reason"), rows)


def _finish(run: ImportRun, counts: dict[str, int], problems: list[Problem]) -> None:
    _save_problems(run, problems)
    warnings = sum(p.severity == WARNING for p in problems)
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.DONE,
        finished_at=timezone.now(),
        warnings=warnings,
        **counts,
    )


Reader = Callable[[int, list[str], list[Problem]], Sequence[object] | None]


def _stage(
    run: ImportRun,
    path: Path,
    stage: StageTable,
    read: Reader,
    columns: Any,
    optional: Any,
) -> tuple[int, list[Problem]]:
    """Reads the whole file into ``stage``; returns (rows read, problems)."""
    problems: list[Problem] = []
    total = 0
    with open_table(
        path,
        columns=columns,
        optional=optional,
        max_bytes=settings.IMPORT_MAX_FILE_BYTES,
        name=run.file_name,
    ) as table:
        workers = _workers()
        plan = (
            split_csv(path, workers)
            if table.format == "csv"
            and workers > 1
            and table.size >= settings.IMPORT_PARALLEL_BYTES
            else None
        )
        if plan is not None:
            total, problems = _stage_in_parts(run, path, stage, read, table, *plan)
        else:
            chunk: list[Sequence[object]] = []
            for number, cells in table.rows:
                total += 1
                staged = read(number, cells, problems)
                if staged is not None:
                    chunk.append(staged)
                if len(chunk) >= CHUNK_ROWS:
                    stage.copy(chunk)
                    chunk = []
                    _progress(run, total, table.bytes_read)
            stage.copy(chunk)
    stage.analyze()
    _progress(run, total, run.size)
    return total, problems


def _workers() -> int:
    # Forking is safe only from a process's main thread: an import started by
    # the web page runs in a thread of its own, and reads in one piece.
    if threading.current_thread() is not threading.main_thread():
        return 1
    return max(1, settings.IMPORT_WORKERS)


def _stage_in_parts(
    run: ImportRun,
    path: Path,
    stage: StageTable,
    read: Reader,
    table: TableStream,
    parts: list[Part],
    lines: int,
) -> tuple[int, list[Problem]]:
    """Reads the parts of a large CSV in parallel processes (one per core), while
    this process copies what they send into ``stage``.

    The readers are forked with the caches they need and never touch the
    database; rows keep their numbers in the whole file.
    """
    context = multiprocessing.get_context("fork")
    receivers = []
    processes = []
    for part in parts:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_read_part,
            args=(sender, path, part, table, read, len(stage.columns)),
            daemon=True,
        )
        process.start()
        sender.close()
        receivers.append(receiver)
        processes.append(process)
    columns = [c for c, _ in stage.columns]
    problems: list[Problem] = []
    total = 0
    failure: BaseException | None = None
    waiting = list(receivers)
    try:
        while waiting:
            for ready in mp_connection.wait(waiting):
                if not isinstance(ready, mp_connection.Connection):
                    continue
                try:
                    message = ready.recv_bytes()
                except EOFError:
                    waiting.remove(ready)
                    failure = failure or RuntimeError("a reader process stopped unexpectedly")
                    continue
                if message[:1] == b"D":
                    rows = int.from_bytes(message[1:9], "big")
                    if len(message) > 9:
                        copy_text(stage.name, columns, message[9:])
                    total += rows
                    _progress(run, total, run.size * total // max(lines, 1))
                    continue
                waiting.remove(ready)
                outcome = pickle.loads(message[1:])  # noqa: S301 - from our own child process
                if isinstance(outcome, BaseException):
                    failure = failure or outcome
                else:
                    part_problems, placed = outcome
                    problems.extend(part_problems)
                    placed_by_point = getattr(
                        getattr(read, "__self__", None), "placed_by_point", None
                    )
                    if placed_by_point is not None:
                        placed_by_point.update(placed)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    if failure is not None:
        raise failure
    problems.sort(key=lambda p: p.row)
    return total, problems


def _read_part(
    sender: mp_connection.Connection,
    path: Path,
    part: Part,
    table: TableStream,
    read: Reader,
    width: int,
) -> None:
    """In a reader process: checks the rows of ``part`` and sends them as COPY text."""
    _forget_inherited_connections()
    problems: list[Problem] = []
    try:
        lines: list[str] = []
        seen = 0
        rows = read_part(
            path,
            part,
            name=table.file,
            encoding=table.encoding or "utf-8",
            take=table.take,
            order=table.columns,
        )
        for number, cells in rows:
            seen += 1
            staged = read(number, cells, problems)
            if staged is not None:
                lines.append(copy_line(staged, width))
            if len(lines) >= CHUNK_ROWS:
                # Rows read, rejected ones included: the run counts what it read.
                sender.send_bytes(b"D" + seen.to_bytes(8, "big") + "".join(lines).encode())
                lines, seen = [], 0
        sender.send_bytes(b"D" + seen.to_bytes(8, "big") + "".join(lines).encode())
        placed = getattr(getattr(read, "__self__", None), "placed_by_point", {})
        sender.send_bytes(b"F" + pickle.dumps((problems, placed)))
    except Exception as error:  # noqa: BLE001 - any failure goes back to the parent
        sender.send_bytes(b"F" + pickle.dumps(error))
    finally:
        sender.close()
        # Only connections this process opened itself (the gazetteer re-reads
        # boundary codes from time to time): the parent's were forgotten.
        connections.close_all()


def _forget_inherited_connections() -> None:
    """Drops, without closing, the database connections a forked reader inherits.

    They are the parent's sessions, in the middle of its COPY: a query here would
    interleave with it on the same socket, and closing them would end the
    parent's session. Whatever this process needs opens a connection of its own.
    """
    for wrapper in connections.all(initialized_only=True):
        wrapper.connection = None


def _duplicates(stage: str, key: str, digest: str) -> list[tuple[str, list[int], list[str]]]:
    with connection.cursor() as cursor:
        # Digests only for the repeated keys: md5 over every row costs seconds.
        cursor.execute(
            f"WITH repeated AS (SELECT {key} AS k FROM {stage} s "  # noqa: S608
            f"GROUP BY {key} HAVING count(*) > 1) "
            f"SELECT {key}, array_agg(row ORDER BY row), array_agg({digest} ORDER BY row) "
            f"FROM {stage} s JOIN repeated ON repeated.k = {key} GROUP BY {key}"
        )
        return list(cursor.fetchall())


def _drop_duplicates(stage: str, key: str, digest: str, what: str, problems: list[Problem]) -> int:
    """Keeps the first row of each key, reports and removes the others."""
    later: list[int] = []
    for _, rows, digests in _duplicates(stage, key, digest):
        first = rows[0]
        for row, row_digest in zip(rows[1:], digests[1:], strict=True):
            later.append(row)
            if row_digest == digests[0]:
                reason = f"duplicate of row {first}: skipped"
            else:
                reason = f"same {what} as row {first} with other details: row {first} kept"
            problems.append(Problem(row, "national_id", WARNING, reason))
    if later:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {stage} WHERE row = ANY(%s)", [later])  # noqa: S608
    return len(later)


# --- population ------------------------------------------------------------------------

POPULATION_STAGE = StageTable(
    "takhai_stage_population",
    (
        ("row", "integer"),
        ("key", "text"),
        ("national_id", "text"),
        ("id_kind", "text"),
        ("title", "text"),
        ("first_name", "text"),
        ("last_name", "text"),
        ("name_key", "text"),
        ("sex", "text"),
        ("birth_date", "date"),
        ("nationality", "text"),
        ("household_key", "text"),
        ("house_no", "text"),
        ("moo", "smallint"),
        ("address", "text"),
        ("subdistrict", "text"),
        ("lon", "float8"),
        ("lat", "float8"),
    ),
)
# Digests of the saved fields are computed by PostgreSQL, in C, as rows are saved:
# in Python they cost a quarter of the reading time of a million rows.
_POPULATION_DIGEST = (
    "md5(concat_ws(chr(31), s.national_id, s.title, s.first_name, s.last_name, s.sex, "
    "s.birth_date, s.nationality, s.household_key, s.address, s.lon, s.lat))"
)
_ENROLMENT_DIGEST = (
    "md5(concat_ws(chr(31), s.national_id, s.first_name, s.last_name, s.birth_date, "
    "s.school_code, s.school_name, s.grade, s.status))"
)


def _area_resolver() -> AreaResolver:
    tambons = list(
        Subdistrict.objects.values_list(
            "code", "name_th", "district__name_th", "district__province__name_th"
        )
    )
    return make_area_resolver(
        {code for code, *_ in tambons}, boundary_names=boundary_name_index(tambons)
    )


def _import_population(run: ImportRun, path: Path) -> tuple[dict[str, int], list[Problem]]:
    reader = PopulationReader(
        resolve_area=_area_resolver(), today=timezone.now().astimezone(BANGKOK).date()
    )

    def apply(stage: str, problems: list[Problem]) -> dict[str, int]:
        return _apply_population(run, stage, problems, reader.placed_by_point)

    return _import_with(
        run, path, POPULATION_STAGE, reader.read, POPULATION_COLUMNS, POPULATION_OPTIONAL, apply
    )


def _apply_population(
    run: ImportRun, stage: str, problems: list[Problem], placed_by_point: dict[int, str]
) -> dict[str, int]:
    with timed("population duplicates"):
        duplicates = _drop_duplicates(stage, "key", _POPULATION_DIGEST, "national ID", problems)
    located = subdistrict_at_sql("ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
    with connection.cursor() as cursor, timed("population apply"):
        # Reverse geocoding: an address that named no known tambon, but came with
        # coordinates, is placed in the tambon at the point. Points in the sea
        # or across a border stay without a tambon (the report's bucket).
        cursor.execute(
            f"UPDATE {stage} SET subdistrict = {located} "  # noqa: S608
            "WHERE subdistrict IS NULL AND lon IS NOT NULL"
        )
        cursor.execute(
            f"SELECT row, subdistrict FROM {stage} WHERE row = ANY(%s)",  # noqa: S608
            [list(placed_by_point)],
        )
        for row, code in cursor.fetchall():
            outcome = (
                f"placed in tambon {code} by its coordinates"
                if code
                else "its coordinates are in no tambon: household unresolved"
            )
            problems.append(
                Problem(row, "subdistrict", WARNING, f"{placed_by_point[row]}; {outcome}")
            )
        with timed("households"):
            _upsert_households(cursor, stage)
        cursor.execute(
            f"""
            WITH up AS (
                INSERT INTO field_child (key, national_id, id_kind, title, first_name, last_name,
                    name_key, sex, birth_date, nationality, household_id, digest, run_id)
                SELECT s.key, s.national_id, s.id_kind, s.title, s.first_name, s.last_name,
                    s.name_key, s.sex, s.birth_date, s.nationality, h.id, {_POPULATION_DIGEST}, %s
                FROM {stage} s JOIN field_household h ON h.key = s.household_key
                -- In key order: the unique index then grows at its end, page by page.
                ORDER BY s.key
                ON CONFLICT (key) DO UPDATE SET
                    national_id = EXCLUDED.national_id, id_kind = EXCLUDED.id_kind,
                    title = EXCLUDED.title, first_name = EXCLUDED.first_name,
                    last_name = EXCLUDED.last_name, name_key = EXCLUDED.name_key,
                    sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date,
                    nationality = EXCLUDED.nationality, household_id = EXCLUDED.household_id,
                    digest = EXCLUDED.digest, run_id = EXCLUDED.run_id
                WHERE field_child.digest <> EXCLUDED.digest
                RETURNING 1
            )
            SELECT count(*) FROM up
            """,  # noqa: S608
            [run.pk],
        )
        imported = cursor.fetchone()[0]
        cursor.execute(
            f"""
            SELECT count(*), count(*) FILTER (WHERE h.precision = %s)
            FROM {stage} s JOIN field_household h ON h.key = s.household_key
            """,  # noqa: S608
            [Precision.UNRESOLVED],
        )
        kept, unresolved = cursor.fetchone()
    return {
        "imported": imported,
        "unchanged": kept - imported,
        "duplicates": duplicates,
        "unresolved": unresolved,
    }


def _upsert_households(cursor: Any, stage: str) -> None:
    """Households of the staged rows, placed on the precision ladder.

    Given coordinates, else the village point of the หมู่, else a point inside
    the tambon (``ST_PointOnSurface``: never outside it), else unresolved. A
    household placed by field GPS keeps its point and precision.
    """
    cursor.execute(
        f"""
        WITH h AS (
            SELECT DISTINCT ON (household_key) household_key AS key, house_no, moo, address,
                subdistrict, CASE WHEN lon IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(lon, lat), 4326) END AS given
            FROM {stage} ORDER BY household_key, row
        ),
        tambon AS (
            SELECT code, ST_PointOnSurface(geom) AS inner_point FROM geo_subdistrict
            WHERE code IN (SELECT DISTINCT subdistrict FROM h)
        )
        INSERT INTO field_household (key, house_no, moo, address, subdistrict_id, village_id,
            given_point, point, precision)
        SELECT h.key, h.house_no, h.moo, h.address, h.subdistrict, v.code, h.given,
            COALESCE(h.given, v.point, t.inner_point),
            CASE WHEN h.given IS NOT NULL THEN %(given)s
                 WHEN v.point IS NOT NULL THEN %(village)s
                 WHEN t.inner_point IS NOT NULL THEN %(tambon)s
                 ELSE %(unresolved)s END
        FROM h
        LEFT JOIN geo_village v ON v.code = h.subdistrict || lpad(h.moo::text, 2, '0')
        LEFT JOIN tambon t ON t.code = h.subdistrict
        ON CONFLICT (key) DO UPDATE SET
            house_no = EXCLUDED.house_no, moo = EXCLUDED.moo, address = EXCLUDED.address,
            subdistrict_id = EXCLUDED.subdistrict_id, village_id = EXCLUDED.village_id,
            given_point = EXCLUDED.given_point,
            point = CASE WHEN field_household.precision = %(field_gps)s
                THEN field_household.point ELSE EXCLUDED.point END,
            precision = CASE WHEN field_household.precision = %(field_gps)s
                THEN field_household.precision ELSE EXCLUDED.precision END
        WHERE (field_household.house_no, field_household.moo, field_household.address,
               field_household.subdistrict_id, field_household.village_id,
               field_household.given_point)
          IS DISTINCT FROM (EXCLUDED.house_no, EXCLUDED.moo, EXCLUDED.address,
               EXCLUDED.subdistrict_id, EXCLUDED.village_id, EXCLUDED.given_point)
           OR (field_household.precision <> %(field_gps)s
               AND (field_household.precision <> EXCLUDED.precision
                    OR NOT ST_Equals(field_household.point, EXCLUDED.point)))
        """,  # noqa: S608
        {
            "given": Precision.GIVEN,
            "village": Precision.VILLAGE,
            "tambon": Precision.TAMBON,
            "unresolved": Precision.UNRESOLVED,
            "field_gps": Precision.FIELD_GPS,
        },
    )


# --- enrolment ---------------------------------------------------------------------------

ENROLMENT_STAGE = StageTable(
    "takhai_stage_enrolment",
    (
        ("row", "integer"),
        ("key", "text"),
        ("national_id", "text"),
        ("id_kind", "text"),
        ("first_name", "text"),
        ("last_name", "text"),
        ("name_key", "text"),
        ("birth_date", "date"),
        ("school_code", "text"),
        ("school_name", "text"),
        ("grade", "text"),
        ("academic_year", "smallint"),
        ("status", "text"),
    ),
)


def _import_enrolment(run: ImportRun, path: Path) -> tuple[dict[str, int], list[Problem]]:
    reader = EnrolmentReader(today=timezone.now().astimezone(BANGKOK).date())

    def apply(stage: str, problems: list[Problem]) -> dict[str, int]:
        return _apply_enrolment(run, stage, problems)

    return _import_with(
        run, path, ENROLMENT_STAGE, reader.read, ENROLMENT_COLUMNS, ENROLMENT_OPTIONAL, apply
    )


def _apply_enrolment(run: ImportRun, stage: str, problems: list[Problem]) -> dict[str, int]:
    with connection.cursor() as cursor:
        # A child on two rows of one register is normal (moved school mid-year);
        # the same child twice at one school is a duplicate.
        duplicates = _drop_duplicates(
            stage,
            "academic_year || '|' || key || '|' || school_code",
            _ENROLMENT_DIGEST,
            "pupil and school",
            problems,
        )
        cursor.execute(
            f"""
            SELECT s.school_code, min(s.row), count(*) FROM {stage} s
            WHERE s.school_code <> ''
              AND NOT EXISTS (SELECT 1 FROM field_school sc WHERE sc.code = s.school_code)
            GROUP BY s.school_code ORDER BY min(s.row)
            """  # noqa: S608
        )
        for code, row, count in cursor.fetchall():
            problems.append(
                Problem(
                    row,
                    "school_code",
                    WARNING,
                    f"school {code} is not in the school list ({count} rows): import the schools",
                )
            )
        # The national ID matches at once; the rest wait for find_unreached.
        cursor.execute(
            f"""
            WITH up AS (
                INSERT INTO field_enrolment (affiliation, academic_year, key, national_id,
                    id_kind, first_name, last_name, name_key, birth_date, school_code,
                    school_id, school_name, grade, status, digest, run_id, child_id,
                    match_method, match_score)
                SELECT %(affiliation)s, s.academic_year, s.key || '|' || s.school_code,
                    s.national_id, s.id_kind, s.first_name, s.last_name, s.name_key,
                    s.birth_date, s.school_code, sc.id, s.school_name, s.grade, s.status,
                    {_ENROLMENT_DIGEST}, %(run)s, c.id,
                    CASE WHEN c.id IS NULL THEN '' ELSE 'id' END,
                    CASE WHEN c.id IS NULL THEN NULL ELSE 100 END
                FROM {stage} s
                LEFT JOIN field_school sc ON sc.code = s.school_code
                LEFT JOIN field_child c
                    ON c.key = s.national_id AND s.id_kind IN {_ID_KINDS_WITH_VALUE}
                -- In key order, as for children: the unique index grows page by page.
                ORDER BY s.academic_year, s.key, s.school_code
                ON CONFLICT (affiliation, academic_year, key) DO UPDATE SET
                    national_id = EXCLUDED.national_id, id_kind = EXCLUDED.id_kind,
                    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
                    name_key = EXCLUDED.name_key, birth_date = EXCLUDED.birth_date,
                    school_code = EXCLUDED.school_code, school_id = EXCLUDED.school_id,
                    school_name = EXCLUDED.school_name, grade = EXCLUDED.grade,
                    status = EXCLUDED.status, digest = EXCLUDED.digest, run_id = EXCLUDED.run_id,
                    child_id = CASE WHEN field_enrolment.match_method = 'reviewed'
                        THEN field_enrolment.child_id ELSE EXCLUDED.child_id END,
                    match_method = CASE WHEN field_enrolment.match_method = 'reviewed'
                        THEN 'reviewed' ELSE EXCLUDED.match_method END,
                    match_score = CASE WHEN field_enrolment.match_method = 'reviewed'
                        THEN field_enrolment.match_score ELSE EXCLUDED.match_score END
                WHERE field_enrolment.digest <> EXCLUDED.digest
                RETURNING id, match_method
            )
            SELECT count(*), coalesce(array_agg(id) FILTER (WHERE match_method = ''), '{{}}')
            FROM up
            """,  # noqa: S608
            {"affiliation": run.affiliation, "run": run.pk},
        )
        imported, rematch = cursor.fetchone()
        # A changed row is matched again: an open review of its old content is stale.
        cursor.execute(
            "DELETE FROM field_matchreview WHERE status = 'open' AND enrolment_id = ANY(%s)",
            [rematch],
        )
        cursor.execute(
            f"""
            SELECT count(*), count(*) FILTER (WHERE s.school_code = '' OR NOT EXISTS
                (SELECT 1 FROM field_school sc WHERE sc.code = s.school_code))
            FROM {stage} s
            """  # noqa: S608
        )
        kept, unplaced = cursor.fetchone()
    # A register row has no address of its own: it is placed through its school,
    # so "unresolved" counts the rows whose school is not in the school list.
    return {
        "imported": imported,
        "unchanged": kept - imported,
        "duplicates": duplicates,
        "unresolved": unplaced,
    }


# --- schools and villages -------------------------------------------------------------

SCHOOL_STAGE = StageTable(
    "takhai_stage_schools",
    (
        ("row", "integer"),
        ("code", "text"),
        ("name", "text"),
        ("affiliation", "text"),
        ("levels", "text[]"),
        ("students", "integer"),
        ("lon", "float8"),
        ("lat", "float8"),
        ("subdistrict", "text"),
    ),
)
VILLAGE_STAGE = StageTable(
    "takhai_stage_villages",
    (("row", "integer"), ("code", "text"), ("name", "text"), ("lon", "float8"), ("lat", "float8")),
)


def _import_schools(run: ImportRun, path: Path) -> tuple[dict[str, int], list[Problem]]:
    reader = SchoolReader(resolve_area=_area_resolver())
    return _import_with(
        run, path, SCHOOL_STAGE, reader.read, SCHOOL_COLUMNS, SCHOOL_OPTIONAL, _apply_schools
    )


def _import_villages(run: ImportRun, path: Path) -> tuple[dict[str, int], list[Problem]]:
    reader = VillageReader(
        known_tambons=frozenset(Subdistrict.objects.values_list("code", flat=True))
    )
    return _import_with(
        run, path, VILLAGE_STAGE, reader.read, VILLAGE_COLUMNS, VILLAGE_OPTIONAL, _apply_villages
    )


def _import_with(
    run: ImportRun,
    path: Path,
    stage: StageTable,
    read: Reader,
    columns: Any,
    optional: Any,
    apply: Callable[[str, list[Problem]], dict[str, int]],
) -> tuple[dict[str, int], list[Problem]]:
    """Reads ``path`` into ``stage``, then applies it in one transaction; every
    importer goes through here."""
    stage.create()
    try:
        with timed(f"{run.kind} reading"):
            _, problems = _stage(run, path, stage, read, columns, optional)
        ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.APPLYING)
        with transaction.atomic(), timed(f"{run.kind} saving"):
            counts = apply(stage.name, problems)
            counts["rejected"] = sum(p.severity == ERROR for p in problems)
            _finish(run, counts, problems)
    finally:
        stage.drop()
    return counts, problems


def _drop_repeated_codes(stage: str, problems: list[Problem]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code, array_agg(row ORDER BY row) FROM {stage} "  # noqa: S608
            "GROUP BY code HAVING count(*) > 1"
        )
        later = []
        for code, rows in cursor.fetchall():
            for row in rows[1:]:
                later.append(row)
                problems.append(
                    Problem(row, "code", WARNING, f"code {code} already on row {rows[0]}: skipped")
                )
        if later:
            cursor.execute(f"DELETE FROM {stage} WHERE row = ANY(%s)", [later])  # noqa: S608
    return len(later)


def _apply_schools(stage: str, problems: list[Problem]) -> dict[str, int]:
    duplicates = _drop_repeated_codes(stage, problems)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row, lon, lat FROM {stage} WHERE lon IS NOT NULL")  # noqa: S608
        located = cursor.fetchall()
    # Reverse geocoding with snapping (schools on the shore, on a border): the
    # point decides the tambon, the address only where there is no point.
    places = locate_points([(lon, lat) for _, lon, lat in located])
    found = []
    for (row, _, _), place in zip(located, places, strict=True):
        if place is None:
            problems.append(
                Problem(row, "lat", WARNING, "the point is outside every tambon: school unplaced")
            )
        else:
            found.append((row, place.subdistrict.code))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE takhai_located (row integer, code text) ON COMMIT DROP"
        )
        copy_rows("takhai_located", ("row", "code"), found)
        cursor.execute(
            f"UPDATE {stage} s SET subdistrict = l.code FROM takhai_located l WHERE l.row = s.row"  # noqa: S608
        )
        cursor.execute(
            f"UPDATE {stage} SET subdistrict = NULL WHERE lon IS NOT NULL "  # noqa: S608
            "AND row NOT IN (SELECT row FROM takhai_located)"
        )
        cursor.execute("DROP TABLE takhai_located")
        cursor.execute(
            f"""
            WITH up AS (
                INSERT INTO field_school (code, name, affiliation, levels, students, point,
                    subdistrict_id)
                SELECT code, name, affiliation, levels, students,
                    CASE WHEN lon IS NOT NULL THEN ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
                    subdistrict
                FROM {stage}
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,
                    affiliation = EXCLUDED.affiliation, levels = EXCLUDED.levels,
                    students = EXCLUDED.students, point = EXCLUDED.point,
                    subdistrict_id = EXCLUDED.subdistrict_id
                WHERE (field_school.name, field_school.affiliation, field_school.levels,
                       field_school.students, field_school.point, field_school.subdistrict_id)
                    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.affiliation, EXCLUDED.levels,
                       EXCLUDED.students, EXCLUDED.point, EXCLUDED.subdistrict_id)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM up), count(*), count(*) FILTER (WHERE subdistrict IS NULL),
                array_agg(code)
            FROM {stage}
            """  # noqa: S608
        )
        imported, kept, unplaced, codes = cursor.fetchone()
        schools_place_villages(codes=codes or [])
        # Register rows saved before their school was listed now find it.
        cursor.execute(
            """
            UPDATE field_enrolment e SET school_id = s.id FROM field_school s
            WHERE e.school_id IS NULL AND e.school_code = s.code
            """
        )
    return {
        "imported": imported,
        "unchanged": kept - imported,
        "duplicates": duplicates,
        "unresolved": unplaced,
    }


def _apply_villages(stage: str, problems: list[Problem]) -> dict[str, int]:
    duplicates = _drop_repeated_codes(stage, problems)
    located = subdistrict_at_sql("ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)")
    with connection.cursor() as cursor:
        # DOPA's village points are often a little off the published (simplified)
        # boundaries; such a village is kept, and its point reported.
        cursor.execute(
            f"""
            SELECT row, code, at FROM (SELECT s.row, s.code, {located} AS at FROM {stage} s) x
            WHERE at IS DISTINCT FROM left(code, 6)
            """  # noqa: S608
        )
        for row, code, at in cursor.fetchall():
            where = f"in tambon {at}" if at else "outside every tambon"
            problems.append(
                Problem(row, "lat", WARNING, f"the point of village {code} lies {where}: kept")
            )
        cursor.execute(
            f"""
            WITH up AS (
                INSERT INTO geo_village (code, subdistrict_id, name, point)
                SELECT code, left(code, 6), name, ST_SetSRID(ST_MakePoint(lon, lat), 4326)
                FROM {stage}
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, point = EXCLUDED.point
                WHERE (geo_village.name, geo_village.point)
                    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.point)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM up), count(*) FROM {stage}
            """  # noqa: S608
        )
        imported, kept = cursor.fetchone()
        place_households_at_villages(cursor)
    return {
        "imported": imported,
        "unchanged": kept - imported,
        "duplicates": duplicates,
        "unresolved": 0,
    }


def place_households_at_villages(cursor: Any) -> int:
    """Moves households up the ladder to their village's point, now that it is known.

    Households placed by given coordinates or field GPS stay where they are.
    """
    cursor.execute(
        """
        UPDATE field_household h SET village_id = v.code,
            point = CASE WHEN h.precision IN (%(tambon)s, %(unresolved)s, %(village)s)
                THEN v.point ELSE h.point END,
            precision = CASE WHEN h.precision IN (%(tambon)s, %(unresolved)s)
                THEN %(village)s ELSE h.precision END
        FROM geo_village v
        WHERE h.moo IS NOT NULL AND v.code = h.subdistrict_id || lpad(h.moo::text, 2, '0')
          AND (h.village_id IS DISTINCT FROM v.code
               OR h.precision IN (%(tambon)s, %(unresolved)s)
               OR (h.precision = %(village)s AND NOT ST_Equals(h.point, v.point)))
        """,
        {
            "tambon": Precision.TAMBON,
            "unresolved": Precision.UNRESOLVED,
            "village": Precision.VILLAGE,
        },
    )
    return int(cursor.rowcount)


# --- education volunteers ----------------------------------------------------------------

VOLUNTEER_STAGE = StageTable(
    "takhai_stage_volunteers",
    (
        ("row", "integer"),
        ("code", "text"),
        ("name", "text"),
        ("phone", "text"),
        ("lon", "float8"),
        ("lat", "float8"),
        ("village", "text"),
        ("kind", "text"),
        ("capacity", "integer"),
        ("active_from", "date"),
        ("active_to", "date"),
    ),
)


def _import_volunteers(run: ImportRun, path: Path) -> tuple[dict[str, int], list[Problem]]:
    return _import_with(
        run,
        path,
        VOLUNTEER_STAGE,
        VolunteerReader().read,
        VOLUNTEER_COLUMNS,
        VOLUNTEER_OPTIONAL,
        _apply_volunteers,
    )


def _apply_volunteers(stage: str, problems: list[Problem]) -> dict[str, int]:
    duplicates = _drop_repeated_codes(stage, problems)
    home = "ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.row, s.village FROM {stage} s
            WHERE s.village IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM geo_village v WHERE v.code = s.village)
            ORDER BY s.row
            """  # noqa: S608
        )
        unknown = cursor.fetchall()
        for row, code in unknown:
            problems.append(
                Problem(
                    row,
                    "village",
                    WARNING,
                    f"village {code} is not in the village list: nearest village taken",
                )
            )
        # Without a village on the list, the rule schools follow: the nearest
        # village point of the tambon the home lies in.
        nearest = nearest_village_sql(subdistrict_at_sql(home), home)
        cursor.execute(
            f"UPDATE {stage} s SET village = {nearest} "  # noqa: S608
            "WHERE s.village IS NULL OR s.row = ANY(%s)",
            [[row for row, _ in unknown]],
        )
        # The user is left out on purpose: a login a coordinator linked stays linked.
        cursor.execute(
            f"""
            WITH up AS (
                INSERT INTO field_volunteer (code, name, phone, home, village_id, kind,
                    capacity, active_from, active_to)
                SELECT s.code, s.name, s.phone, {home}, s.village, s.kind, s.capacity,
                    s.active_from, s.active_to
                FROM {stage} s ORDER BY s.row
                ON CONFLICT (code) WHERE code <> '' DO UPDATE SET name = EXCLUDED.name,
                    phone = EXCLUDED.phone, home = EXCLUDED.home,
                    village_id = EXCLUDED.village_id, kind = EXCLUDED.kind,
                    capacity = EXCLUDED.capacity, active_from = EXCLUDED.active_from,
                    active_to = EXCLUDED.active_to,
                    version = field_volunteer.version + 1, updated_at = now()
                WHERE (field_volunteer.name, field_volunteer.phone, field_volunteer.village_id,
                       field_volunteer.kind, field_volunteer.capacity,
                       field_volunteer.active_from, field_volunteer.active_to)
                    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.phone, EXCLUDED.village_id,
                       EXCLUDED.kind, EXCLUDED.capacity, EXCLUDED.active_from,
                       EXCLUDED.active_to)
                   OR NOT ST_Equals(field_volunteer.home, EXCLUDED.home)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM up), count(*),
                count(*) FILTER (WHERE s.village IS NULL)
            FROM {stage} s
            """  # noqa: S608
        )
        imported, kept, unplaced = cursor.fetchone()
    return {
        "imported": imported,
        "unchanged": kept - imported,
        "duplicates": duplicates,
        "unresolved": unplaced,
    }


_IMPORTERS: dict[ImportKind, Callable[[ImportRun, Path], tuple[dict[str, int], list[Problem]]]] = {
    ImportKind.POPULATION: _import_population,
    ImportKind.ENROLMENT: _import_enrolment,
    ImportKind.SCHOOLS: _import_schools,
    ImportKind.VILLAGES: _import_villages,
    ImportKind.VOLUNTEERS: _import_volunteers,
}
