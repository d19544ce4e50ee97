"""Large CSV files are read by two processes: the outcome must not depend on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from field.models import Child, Household, ImportKind, ImportProblem
from field.registry.ids import national_id_check_digit
from field.registry.tables import HEADER_ROW, split_csv
from field.services.imports import import_file
from geo import gazetteer

pytestmark = pytest.mark.django_db

HEADER = (
    "national_id,first_name,last_name,birth_date,house_no,moo,subdistrict,district,province,sex"
)


def nid(n: int) -> str:
    first12 = f"1100{n:08d}"
    return first12 + str(national_id_check_digit(first12))


def population(path: Path, rows: int) -> Path:
    lines = [HEADER]
    for n in range(rows):
        born = "31/02/2560" if n % 97 == 0 else f"{n % 28 + 1:02d}/03/2558"  # some impossible
        tambon = "ในเมืองง" if n % 31 == 0 else "ในเมือง"  # some misspelt
        lines.append(f"{nid(n)},ก{n},ข,{born},{n % 50},1,{tambon},เมืองขอนแก่น,ขอนแก่น,ช")
    lines.append(lines[5])  # a duplicate in the second half
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def outcome() -> tuple[object, ...]:
    return (
        sorted(Child.objects.values_list("key", "digest", "household__key")),
        Household.objects.count(),
        sorted(ImportProblem.objects.values_list("row", "field", "severity", "reason")),
    )


def test_the_split_starts_each_part_on_a_row_with_its_number(tmp_path: Path) -> None:
    path = population(tmp_path / "p.csv", 1000)
    plan = split_csv(path, 2)
    assert plan is not None
    parts, lines = plan
    assert lines == 1002
    assert parts[0].first_row == HEADER_ROW + 1
    data = path.read_bytes()
    assert data[parts[1].start - 1 : parts[1].start] == b"\n"
    assert parts[1].first_row == HEADER_ROW + 1 + data.count(b"\n", parts[0].start, parts[1].start)


def test_a_quote_before_the_cut_keeps_the_file_in_one_piece(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(HEADER + '\n"1",a\n' + "2,b\n" * 100, encoding="utf-8")
    assert split_csv(path, 2) is None


def test_two_processes_give_what_one_gives(khon_kaen_boundaries: None, tmp_path: Path) -> None:
    path = population(tmp_path / "population.csv", 3000)
    with override_settings(IMPORT_WORKERS=1):
        one = import_file(kind=ImportKind.POPULATION, path=path)
    alone = outcome()
    Child.objects.all().delete()
    Household.objects.all().delete()
    ImportProblem.objects.all().delete()
    # An empty gazetteer cache makes every reader process read the boundary codes
    # from the database: through a connection of its own, never the parent's.
    gazetteer.clear_cache()
    with override_settings(IMPORT_WORKERS=2, IMPORT_PARALLEL_BYTES=0):
        two = import_file(kind=ImportKind.POPULATION, path=path)
    assert outcome() == alone
    assert (two.rows_read, two.imported, two.rejected, two.duplicates, two.warnings) == (
        one.rows_read,
        one.imported,
        one.rejected,
        one.duplicates,
        one.warnings,
    )
    assert one.rejected == 31 and one.duplicates == 1
