"""Benchmark: the tablet app's sync for a search team of a busy district.

Usage (from the repository root; the database is created and migrated if missing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/takhai_teambench \\
        .venv/bin/python bench/team_sync.py [--repeat 7]

It builds (seeded, not timed) a synthetic district of 10 square tambons with
5,000 open cases, 500 a tambon, and a team holding one tambon whole: its member
syncs 500 cases, a third of them with an earlier visit. Then, through Django's
test Client logged in as that member, it measures ``GET /api/v1/sync/``: the
first (full) sync, and an incremental one after 10 of the team's cases got a
visit (``visit_record``). Sizes are of the JSON body, raw and gzip-compressed
(level 6, what nginx and whitenoise use); times are server times in this
process, the median of ``--repeat`` runs. Only its own rows (province code 96)
are replaced, and only in a database whose name contains "bench".
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.contrib.gis.geos import MultiPolygon, Point, Polygon  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from field.models import (  # noqa: E402
    Affiliation,
    Case,
    CaseKind,
    Child,
    Household,
    ImportKind,
    ImportRun,
    ImportStatus,
    Precision,
    Profile,
    Role,
    School,
    SchoolLevel,
    SearchOutcome,
    Team,
    TeamArea,
    Visit,
)
from field.registry.ids import IdentifierKind  # noqa: E402
from field.services.cases import visit_record  # noqa: E402
from geo.models import District, Province, Subdistrict, Village  # noqa: E402

PROVINCE = "96"  # no real province has it
DISTRICT = "9601"
TAMBONS = 10
CASES_PER_TAMBON = 500
VILLAGES_PER_TAMBON = 10
SCHOOLS = 40
ORIGIN = (103.5, 4.5)  # the sea, far from any real tambon
SIZE = 0.05
SEED = 20261121
FIRST_NAMES = ("สมชาย", "สมหญิง", "ณัฐวุฒิ", "กัญญารัตน์", "ธนากร", "พิมพ์ชนก", "อนุชา", "ศิริพร")
LAST_NAMES = ("ใจดี", "ศรีสุข", "บุญมา", "แก้วมณี", "ทองคำ", "พรหมสุวรรณ", "วงศ์ใหญ่", "สายทอง")
GOAL_FIRST_GZIP = 1_000_000
GOAL_INCREMENTAL_GZIP = 20_000


def check_database() -> str:
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(f"refusing to write to {name!r}: use a database whose name contains 'bench'")
    return name


def ensure_database(name: str) -> None:
    """Creates the database when missing (through Django's connection to the
    server's maintenance database, as the test runner does), then migrates it."""
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def square(x: float, y: float, size: float) -> MultiPolygon:
    ring = ((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y))
    return MultiPolygon(Polygon(ring), srid=4326)


def clear() -> None:
    tambon = {"child__household__subdistrict__district_id": DISTRICT}
    Visit.objects.filter(**{f"case__{k}": v for k, v in tambon.items()}).delete()
    Case.objects.filter(**tambon).delete()
    Child.objects.filter(household__subdistrict__district_id=DISTRICT).delete()
    Household.objects.filter(subdistrict__district_id=DISTRICT).delete()
    TeamArea.objects.filter(subdistrict__district_id=DISTRICT).delete()
    Team.objects.filter(name="ทีมค้นหา bench").delete()
    User.objects.filter(username="bench_member").delete()
    School.objects.filter(subdistrict__district_id=DISTRICT).delete()
    Village.objects.filter(subdistrict__district_id=DISTRICT).delete()
    Subdistrict.objects.filter(district_id=DISTRICT).delete()
    District.objects.filter(code=DISTRICT).delete()
    Province.objects.filter(code=PROVINCE).delete()


@transaction.atomic
def build() -> tuple[User, Team]:
    rng = random.Random(SEED)
    province = Province.objects.create(
        code=PROVINCE, name_th="จังหวัดทดสอบ", name_en="Bench", geom=square(*ORIGIN, 1.0)
    )
    district = District.objects.create(
        code=DISTRICT,
        province=province,
        name_th="อำเภอทดสอบ",
        name_en="Bench",
        geom=square(*ORIGIN, 1.0),
    )
    tambons = [
        Subdistrict.objects.create(
            code=f"{DISTRICT}{i + 1:02d}",
            district=district,
            name_th=f"ตำบลทดสอบ{i + 1}",
            name_en=f"Bench {i + 1}",
            geom=square(ORIGIN[0] + i * SIZE, ORIGIN[1], SIZE),
        )
        for i in range(TAMBONS)
    ]
    villages = Village.objects.bulk_create(
        Village(
            code=f"{tambon.code}{moo:02d}",
            subdistrict=tambon,
            name=f"บ้านทดสอบ{moo}",
            point=Point(tambon.geom.extent[0] + moo * SIZE / 11, ORIGIN[1] + SIZE / 2, srid=4326),
        )
        for tambon in tambons
        for moo in range(1, VILLAGES_PER_TAMBON + 1)
    )
    School.objects.bulk_create(
        School(
            code=f"10{96_000_000 + n:08d}",
            name=f"โรงเรียนบ้านทดสอบ{n}",
            affiliation=Affiliation.OBEC,
            levels=[SchoolLevel.PRIMARY],
            students=150,
            subdistrict=tambons[n % TAMBONS],
        )
        for n in range(SCHOOLS)
    )
    run = ImportRun.objects.create(
        kind=ImportKind.POPULATION,
        file_name="bench.csv",
        sha256="0" * 64,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        status=ImportStatus.DONE,
    )
    households = []
    for t, tambon in enumerate(tambons):
        x0, y0 = tambon.geom.extent[:2]
        for n in range(CASES_PER_TAMBON):
            moo = rng.randint(1, VILLAGES_PER_TAMBON)
            house_no = f"{rng.randint(1, 300)}/{rng.randint(1, 20)}"
            households.append(
                Household(
                    key=f"bench-{t}-{n}",
                    house_no=house_no,
                    moo=moo,
                    address=f"{house_no} หมู่ {moo} ตำบล{tambon.name_th} อำเภอทดสอบ จังหวัดทดสอบ",
                    subdistrict=tambon,
                    village=villages[t * VILLAGES_PER_TAMBON + moo - 1],
                    precision=Precision.GIVEN,
                    point=Point(x0 + rng.random() * SIZE, y0 + rng.random() * SIZE, srid=4326),
                )
            )
    households = Household.objects.bulk_create(households, batch_size=2000)
    children = Child.objects.bulk_create(
        (
            Child(
                key=f"bench-child-{n}",
                national_id=f"1{SEED + n:012d}"[:13],
                id_kind=IdentifierKind.THAI_ID,
                title=rng.choice(("ด.ช.", "ด.ญ.")),
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                name_key="x",
                sex=rng.choice("MF"),
                birth_date=dt.date(2008 + rng.randint(0, 12), rng.randint(1, 12), 1),
                household=household,
                digest="0" * 32,
                run=run,
            )
            for n, household in enumerate(households)
        ),
        batch_size=2000,
    )
    yesterday = timezone.now() - dt.timedelta(days=1)
    cases = Case.objects.bulk_create(
        (
            Case(
                child=child,
                kind=rng.choice(CaseKind.values),
                academic_year=2569,
                opened_at=yesterday,
                updated_at=yesterday,
            )
            for child in children
        ),
        batch_size=2000,
    )
    member = User.objects.create(username="bench_member")
    Profile.objects.create(user=member, role=Role.TEAM_MEMBER)
    team = Team.objects.create(name="ทีมค้นหา bench", district=district)
    team.members.add(member)
    TeamArea.objects.create(team=team, subdistrict=tambons[0], assigned_at=yesterday)
    # A third of the team's cases visited once already, as a week into the search.
    Visit.objects.bulk_create(
        Visit(
            case=case,
            by=member,
            at=yesterday,
            outcome=SearchOutcome.NOT_FOUND,
            note="ไม่มีคนอยู่บ้าน ฝากเบอร์ไว้กับเพื่อนบ้าน",
            team=team,
        )
        for case in cases[:CASES_PER_TAMBON:3]
    )
    return member, team


def measure(client: Client, since: str | None, repeat: int) -> dict[str, Any]:
    url = reverse("api-sync")
    query = {"since": since} if since else {}
    times = []
    body = b""
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, query)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content[:200]  # noqa: S101
        body = response.content
    with CaptureQueriesContext(connection) as queries:
        client.get(url, query)
    payload = response.json()
    return {
        "cases": len(payload["cases"]),
        "case_ids": len(payload["case_ids"]),
        "cursor": payload["cursor"],
        "raw": len(body),
        "gzip": len(gzip.compress(body, compresslevel=6)),
        "ms": statistics.median(times) * 1000,
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    name = check_database()
    ensure_database(name)
    setup_test_environment(debug=False)
    clear()
    started = time.perf_counter()
    member, team = build()
    print(f"built {TAMBONS * CASES_PER_TAMBON:,} cases in {time.perf_counter() - started:.1f} s")
    client = Client()
    client.force_login(member)

    first = measure(client, None, args.repeat)
    changed = list(Case.objects.filter(child__household__subdistrict_id=f"{DISTRICT}01")[:10])
    for case in changed:
        visit_record(
            case=case,
            by=member,
            at=timezone.now(),
            point=None,
            outcome=SearchOutcome.FOUND_AT_ADDRESS,
            note="พบเด็ก ผู้ปกครองยินดีให้กลับเข้าเรียน",
            resolution="returned_to_school",
            team=team,
        )
    incremental = measure(client, first["cursor"], args.repeat)
    area = client.get(reverse("api-area")).content

    def line(label: str, r: dict[str, Any]) -> str:
        return (
            f"{label}: {r['cases']} cases ({r['case_ids']} ids), {r['raw'] / 1000:,.1f} KB raw, "
            f"{r['gzip'] / 1000:,.1f} KB gzip, {r['ms']:.0f} ms median, {r['queries']} queries"
        )

    print(line("first sync", first))
    print(line("incremental sync", incremental))
    print(f"area: {len(area) / 1000:,.1f} KB raw, {len(gzip.compress(area)) / 1000:,.1f} KB gzip")
    ok_first = first["gzip"] < GOAL_FIRST_GZIP
    ok_incr = incremental["gzip"] < GOAL_INCREMENTAL_GZIP
    print(f"goal first sync < 1 MB gzip: {'met' if ok_first else 'NOT met'}")
    print(f"goal incremental < 20 KB gzip: {'met' if ok_incr else 'NOT met'}")
    clear()


if __name__ == "__main__":
    main()
