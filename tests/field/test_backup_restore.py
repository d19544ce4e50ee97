"""The backup and restore commands, for real: pg_dump, a wipe, pg_restore.

pg_dump and pg_restore run in their own processes, so they see only committed
data, and a restore replaces a whole database. The tests commit their data into
the test database (``transaction=True``), copy it into a database of their own
(``CREATE DATABASE ... TEMPLATE``, a file copy) and back up, wipe and restore that
one, reached through an extra alias: the test database is never restored over.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.db.utils import DatabaseError
from django.utils import timezone
from factories import CaseFactory, ChildFactory, HouseholdFactory, SubdistrictFactory, make

from field.models import (
    AuditAction,
    AuditEvent,
    AuditObject,
    Case,
    Child,
    Household,
    SearchOutcome,
    Visit,
)
from field.services.audit import audit_record
from field.services.backup import database_state, manifest_path

ALIAS = "backup_roundtrip"
COUNTED = (Household, Child, Case, Visit, AuditEvent, User)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def filled(transactional_db: None) -> None:
    """Two tambons' worth of households, children, cases, visits and audit events."""
    member = User.objects.create_user("backup-member", password=None)
    for t in range(2):
        tambon = make(SubdistrictFactory)
        x, y = tambon.geom.centroid.coords
        for i in range(5):
            household = make(
                HouseholdFactory, subdistrict=tambon, point=Point(x + i * 1e-4, y, srid=4326)
            )
            child = make(ChildFactory, household=household, first_name=f"เด็กหญิงสำรอง{t}{i}")
            case = make(CaseFactory, child=child)
            Visit.objects.create(
                case=case,
                by=member,
                at=timezone.now() - dt.timedelta(days=i),
                point=Point(x + i * 1e-4, y + 1e-5, srid=4326),
                outcome=SearchOutcome.NOT_FOUND if i % 2 else SearchOutcome.FOUND_AT_ADDRESS,
                note=f"ไม่พบเด็ก ครั้งที่ {i}",
                accuracy_m=4.5 + i,
            )
            audit_record(
                user=member,
                action=AuditAction.VIEW,
                obj_kind=AuditObject.CASE,
                obj_id=case.pk,
                tambon=tambon.code,
            )


@pytest.fixture
def roundtrip_db(filled: None) -> Iterator[str]:
    """A copy of the filled test database, as the alias ``ALIAS``."""
    default = connections["default"]
    name = f"takhai_helper_backup_rt_{os.getpid()}"
    template = default.settings_dict["NAME"]
    connections.close_all()  # a template must have no other sessions
    with default._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}")
    # Set as a connection but not as a setting: Django's test case then takes it for
    # a dynamically made connection and lets the test use it.
    settings_dict = {**copy.deepcopy(default.settings_dict), "NAME": name}
    connections[ALIAS] = type(default)(settings_dict, alias=ALIAS)
    try:
        yield name
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        with default._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")


def _counts() -> dict[str, int]:
    return {m._meta.label: m.objects.using(ALIAS).count() for m in COUNTED}


def _wipe() -> None:
    """Empties every table, the audit log too (its owner lifts the trigger for
    it), and drops the visits table outright."""
    state = database_state(ALIAS)
    tables = ", ".join(
        ".".join(_quote(part) for part in name.split(".", 1)) for name in state.tables
    )
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("ALTER TABLE field_auditevent DISABLE TRIGGER field_auditevent_no_truncate")
        cursor.execute(f"TRUNCATE {tables} CASCADE")
        cursor.execute("ALTER TABLE field_auditevent ENABLE TRIGGER field_auditevent_no_truncate")
        cursor.execute("DROP TABLE field_visit CASCADE")


def _backup(tmp_path: Path) -> Path:
    dump = tmp_path / "backups" / "takhai-test.dump"
    call_command("backup", "--output", str(dump), "--database", ALIAS, stdout=io.StringIO())
    return dump


def test_backup_wipe_restore_gives_back_every_row(roundtrip_db: str, tmp_path: Path) -> None:
    before_counts = _counts()
    assert before_counts["field.Visit"] == 10
    assert before_counts["field.AuditEvent"] == 10
    before = database_state(ALIAS)

    dump = _backup(tmp_path)

    assert dump.stat().st_mode & 0o777 == 0o600
    assert dump.parent.stat().st_mode & 0o777 == 0o700
    record = json.loads(manifest_path(dump).read_text(encoding="utf-8"))
    assert record["database"] == roundtrip_db
    assert record["migrations"]["field"] == before.migrations["field"]
    assert {k: (v["rows"], v["checksum"]) for k, v in record["tables"].items()} == {
        k: (v.rows, v.checksum) for k, v in before.tables.items()
    }
    assert record["tables"]["public.field_visit"]["rows"] == 10

    _wipe()
    assert Case.objects.using(ALIAS).count() == 0

    call_command("restore", str(dump), "--yes", "--database", ALIAS, stdout=io.StringIO())

    after = database_state(ALIAS)
    assert _counts() == before_counts
    assert after.tables == before.tables
    assert after.migrations == before.migrations
    assert sorted(after.triggers) == sorted(before.triggers)
    # The restored audit log is still append-only.
    with pytest.raises(DatabaseError, match="append-only"):
        AuditEvent.objects.using(ALIAS).all().delete()


def test_restore_refuses_a_tampered_dump_before_touching_anything(
    roundtrip_db: str, tmp_path: Path
) -> None:
    dump = _backup(tmp_path)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("DELETE FROM field_visit WHERE id = (SELECT min(id) FROM field_visit)")
    before = database_state(ALIAS)

    with pytest.raises(CommandError, match="checksum mismatch"):
        call_command("restore", str(dump), "--yes", "--database", ALIAS)

    assert database_state(ALIAS).tables == before.tables
    assert _counts()["field.Visit"] == 9


def test_restore_refuses_without_yes(roundtrip_db: str, tmp_path: Path) -> None:
    dump = _backup(tmp_path)
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("DELETE FROM field_visit")

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(dump), "--database", ALIAS, stdout=io.StringIO())

    assert _counts()["field.Visit"] == 0


def test_restore_names_the_table_that_differs(roundtrip_db: str, tmp_path: Path) -> None:
    dump = _backup(tmp_path)
    manifest = manifest_path(dump)
    record = json.loads(manifest.read_text(encoding="utf-8"))
    record["tables"]["public.field_case"]["checksum"] = "12345"
    manifest.write_text(json.dumps(record), encoding="utf-8")

    with pytest.raises(CommandError, match=r"public\.field_case: checksum differs"):
        call_command("restore", str(dump), "--yes", "--database", ALIAS)


def test_backup_errors_are_clear_and_hide_the_password(
    roundtrip_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CommandError, match="not found"):
        call_command("restore", str(tmp_path / "missing.dump"), "--yes", "--database", ALIAS)

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="pg_dump not found"):
        call_command("backup", "--output", str(tmp_path / "a.dump"), "--database", ALIAS)
    monkeypatch.undo()

    connections[ALIAS].close()
    connections[ALIAS].settings_dict.update(PORT="1", PASSWORD="hunter2-secret")
    with pytest.raises(CommandError, match="unreachable") as caught:
        call_command("backup", "--output", str(tmp_path / "b.dump"), "--database", ALIAS)
    assert "hunter2-secret" not in str(caught.value)
    assert not (tmp_path / "b.dump").exists()
