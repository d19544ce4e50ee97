"""The import pages and the funnel: permissions, the upload flow, the report, the
map's GeoJSON and the number of queries each page costs."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from factories import (
    TEST_ACADEMIC_YEAR,
    CaseFactory,
    ChildFactory,
    ChildYearFactory,
    DistrictFactory,
    ImportProblemFactory,
    ImportRunFactory,
    ProvinceFactory,
    ReconciliationFactory,
    SubdistrictFactory,
    make,
    population_csv,
    thai_national_id,
)

from field.models import (
    Household,
    ImportKind,
    ImportRun,
    ImportStatus,
    Precision,
    ProblemSeverity,
)
from geo.models import District, Subdistrict

Districts = tuple[District, District]
# Declared for the whole module, so that tests taking personas through
# request.getfixturevalue are ordered with the other database tests, before the
# browser tests (whose event loop would strand a connection opened after them).
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _thai_catalog() -> None:
    """Compiles the Thai catalog if it is missing or older than its source (the .mo
    files are build output, and the Thai-first assertions need them)."""
    po = Path(settings.BASE_DIR) / "locale" / "th" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["th"], ignore_patterns=[".venv", "node_modules"])


@pytest.fixture(autouse=True)
def _uploads(settings: Any, tmp_path: Path) -> Path:
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.IMPORT_INLINE = True
    return Path(settings.IMPORT_UPLOAD_DIR)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _tambon(persona_districts: Districts) -> Subdistrict:
    return make(SubdistrictFactory, district=persona_districts[0])


# --- who may open what --------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "imports", "funnel"),
    [
        ("coordinator", 200, 200),
        ("official", 403, 200),
        ("member_a", 403, 403),
        ("volunteer", 403, 403),
    ],
)
def test_pages_by_role(
    persona: str, imports: int, funnel: int, request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(persona))
    assert client.get(reverse("field-imports")).status_code == imports
    assert client.get(reverse("field-funnel")).status_code == funnel
    assert client.get(reverse("field-funnel-households")).status_code == funnel


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    for name in ("field-imports", "field-funnel", "field-funnel-households"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_coordinator_cannot_open_another_province(
    coordinator: User, persona_districts: Districts
) -> None:
    other = make(SubdistrictFactory, district=make(DistrictFactory, province=make(ProvinceFactory)))
    client = _client(coordinator)
    for code in (other.code, other.code[:4], other.code[:2]):
        assert client.get(reverse("field-funnel"), {"area": code}).status_code == 403
        households = client.get(reverse("field-funnel-households"), {"area": code})
        assert households.status_code == 403
    assert client.get(reverse("field-funnel"), {"area": "4x"}).status_code == 400
    bad_year = client.get(reverse("field-funnel-households"), {"year": "2025"})
    assert bad_year.status_code == 400 and "year" in bad_year.json()["error"]


def test_a_coordinator_cannot_open_another_coordinators_run(
    coordinator: User, official: User
) -> None:
    theirs = make(ImportRunFactory, by=official)
    cli = make(ImportRunFactory, by=None)
    client = _client(coordinator)
    for name in ("field-import-run", "field-import-progress", "field-import-problems"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
        assert client.get(reverse(name, args=[cli.pk])).status_code == 200


# --- upload ---------------------------------------------------------------------------


def _upload(client: Client, content: bytes, name: str = "ประชากร.csv", **data: str) -> Any:
    fields = {"kind": ImportKind.POPULATION, "affiliation": "", **data}
    return client.post(
        reverse("field-imports"), {**fields, "file": SimpleUploadedFile(name, content)}
    )


@pytest.mark.usefixtures("db", "khon_kaen_boundaries")
def test_an_upload_is_imported_and_its_report_shown(coordinator: User, _uploads: Path) -> None:
    good = thai_national_id("110170012345")
    content = population_csv(
        [
            (good, "สมชาย", "ใจดี", "ชาย", "01/02/2558", "12", "3", "ในเมือง", "เมืองขอนแก่น",
             "ขอนแก่น", "16.4300", "102.8300"),
            (good[:12] + str((int(good[12]) + 1) % 10), "สมหญิง", "ดีใจ", "หญิง", "03/04/2559",
             "14", "3", "ในเมือง", "เมืองขอนแก่น", "ขอนแก่น", "", ""),
            (thai_national_id("110170012346"), "มานะ", "ขยัน", "ชาย", "31/02/2560", "15", "3",
             "ในเมือง", "เมืองขอนแก่น", "ขอนแก่น", "", ""),
        ]
    )  # fmt: skip
    client = _client(coordinator)

    response = _upload(client, content)

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("field-import-run", args=[run.pk])
    assert (run.status, run.by, run.file_name) == (ImportStatus.DONE, coordinator, "ประชากร.csv")
    assert run.imported == 1 and run.rejected == 2
    assert list(_uploads.iterdir()) == []  # the upload is not kept once imported

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "ประชากร.csv" in html
    assert html.count('class="severity-error"') == 2
    assert reverse("field-import-problems", args=[run.pk]) in html

    progress = client.get(reverse("field-import-progress", args=[run.pk])).json()
    assert progress["finished"] and progress["percent"] == 100
    assert progress["counts"]["rejected"] == 2


def _unresolved_population() -> bytes:
    # Tambons no gazetteer knows: imported, with households left unresolved, so
    # no boundaries need loading.
    return population_csv(
        [
            (thai_national_id(f"11017001{n:04d}"), f"เด็ก{n}", "ทดสอบ", "ชาย", "01/02/2560",
             str(n), "1", "ตำบลที่ไม่มีจริง", "อำเภอที่ไม่มีจริง", "จังหวัดที่ไม่มีจริง", "", "")
            for n in range(3)
        ]
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_without_inline_the_import_runs_in_a_thread(
    coordinator: User, settings: Any, _uploads: Path
) -> None:
    settings.IMPORT_INLINE = False
    response = _upload(_client(coordinator), _unresolved_population())
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("field-import-run", args=[run.pk])
    worker = next(t for t in threading.enumerate() if t.name == f"import-{run.pk}")
    worker.join(timeout=60)
    run.refresh_from_db()
    assert (run.status, run.imported, run.unresolved) == (ImportStatus.DONE, 3, 3)
    assert list(_uploads.iterdir()) == []


def test_a_crashed_import_is_marked_refused(
    coordinator: User, monkeypatch: pytest.MonkeyPatch, _uploads: Path
) -> None:
    def crash(**kwargs: Any) -> ImportRun:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("field.views.import_execute", crash)
    response = _upload(_client(coordinator), _unresolved_population())
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert run.status == ImportStatus.FAILED and run.finished_at is not None
    assert run.error == "การนำเข้าหยุดเพราะระบบขัดข้อง ไม่มีข้อมูลใดถูกบันทึก"
    assert list(_uploads.iterdir()) == []


def test_a_file_over_the_limit_is_refused(coordinator: User, settings: Any, _uploads: Path) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    response = _upload(_client(coordinator), b"x" * 11)
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportRun.objects.exists()
    assert not _uploads.exists() or list(_uploads.iterdir()) == []


def test_an_enrolment_register_needs_its_affiliation(coordinator: User) -> None:
    response = _upload(_client(coordinator), b"a,b\n", kind=ImportKind.ENROLMENT)
    assert response.status_code == 200
    assert response.context["form"].errors["affiliation"]
    assert not ImportRun.objects.exists()


def test_the_upload_keeps_only_a_plain_suffix(coordinator: User) -> None:
    from field.forms import ImportUploadForm

    for name, suffix in [("ทะเบียน.XLSX", ".xlsx"), ("a.c$v", ""), ("../../etc", "")]:
        upload: UploadedFile = SimpleUploadedFile(name, b"data")
        files = MultiValueDict({"file": [upload]})
        form = ImportUploadForm({"kind": ImportKind.SCHOOLS}, files)
        assert form.is_valid(), form.errors
        path = form.save_upload()
        assert path.parent == Path(settings.IMPORT_UPLOAD_DIR)
        assert path.suffix == suffix and path.read_bytes() == b"data"


# --- the report -----------------------------------------------------------------------


def test_the_report_csv_has_a_bom_and_no_live_formula(coordinator: User) -> None:
    run = make(ImportRunFactory, by=coordinator, file_name="=cmd.csv")
    make(ImportProblemFactory, run=run, row=12, severity=ProblemSeverity.WARNING, reason="late")
    make(
        ImportProblemFactory,
        run=run,
        row=9,
        field="first_name",
        reason='=HYPERLINK("http://evil.example","ดูที่นี่")',
    )

    response = _client(coordinator).get(reverse("field-import-problems", args=[run.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="import-{run.pk}-problems.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["file", "row", "field", "severity", "reason"]
    assert rows[1][:4] == ["'=cmd.csv", "9", "first_name", "error"]
    assert rows[1][4].startswith("'=HYPERLINK") and "ดูที่นี่" in rows[1][4]
    assert rows[2][1:] == ["12", "national_id", "warning", "late"]


def test_the_report_page_shows_200_problems_a_page(coordinator: User) -> None:
    run = make(ImportRunFactory, by=coordinator)
    ImportProblemFactory.create_batch(250, run=run, severity=ProblemSeverity.WARNING)
    make(ImportProblemFactory, run=run, row=999, reason="the error")
    client = _client(coordinator)
    first = client.get(reverse("field-import-run", args=[run.pk])).content.decode()
    second = client.get(reverse("field-import-run", args=[run.pk]), {"page": 2}).content.decode()
    assert first.count('<tr class="severity-') == 200
    assert second.count('<tr class="severity-') == 51
    assert first.index('class="severity-error"') < first.index('class="severity-warning"')


def test_a_running_import_shows_its_progress(coordinator: User) -> None:
    run = make(
        ImportRunFactory,
        by=coordinator,
        status=ImportStatus.READING,
        finished_at=None,
        size=1000,
        bytes_read=250,
        rows_read=42,
    )
    client = _client(coordinator)
    html = client.get(reverse("field-import-run", args=[run.pk])).content.decode()
    assert 'id="run-progress"' in html and "width: 25%" in html
    progress = client.get(reverse("field-import-progress", args=[run.pk]))
    assert progress["Cache-Control"].startswith("max-age=0")
    assert progress.json() | {"counts": None} == {
        "status": "reading",
        "statusLabel": "กำลังอ่าน",
        "finished": False,
        "rowsRead": 42,
        "bytesRead": 250,
        "size": 1000,
        "percent": 25,
        "counts": None,
    }


# --- the funnel -----------------------------------------------------------------------


def _unreached(tambon: Subdistrict, count: int) -> None:
    for index in range(count):
        precision = list(Precision)[index % 4]  # every precision with a point
        child = make(
            ChildFactory,
            household__subdistrict=tambon,
            household__precision=precision,
            first_name=f"เด็กหญิงลับ{index}",
        )
        make(ChildYearFactory, child=child)
        make(CaseFactory, child=child)


def test_the_funnel_page_shows_the_counts_in_thai(
    coordinator: User, persona_districts: Districts
) -> None:
    make(ReconciliationFactory)
    tambon = _tambon(persona_districts)
    _unreached(tambon, 3)
    html = _client(coordinator).get(reverse("field-funnel")).content.decode()
    assert "เด็กนอกระบบการศึกษา" in html
    assert f"?area={tambon.code[:4]}&amp;year={TEST_ACADEMIC_YEAR}" in html
    assert "ไม่เคยเข้าเรียน (ตกหล่น)" in html
    assert 'action="/funnel/reconcile/"' in html


def test_officials_see_counts_and_grid_cells_but_no_household(
    official: User, coordinator: User, persona_districts: Districts
) -> None:
    make(ReconciliationFactory)
    tambon = _tambon(persona_districts)
    _unreached(tambon, 4)
    client = _client(official)
    page = client.get(reverse("field-funnel")).content.decode()
    assert "เด็กหญิงลับ" not in page
    assert "/funnel/reconcile/" not in page
    response = client.get(reverse("field-funnel-households"))
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(response.content)
    assert collection["truncated"] is False and collection["limit"] == 20_000
    # Four children in one cell: fewer than k = 5, so the cell shows no number.
    assert [f["properties"] for f in collection["features"]] == [
        {"kind": "never_enrolled", "children": None, "under": 5}
    ]
    body = response.content.decode()
    assert "เด็กหญิงลับ" not in body and "/1" not in body  # no names, no house numbers
    assert '"Point"' not in body
    ring = collection["features"][0]["geometry"]["coordinates"][0]
    household = Household.objects.filter(subdistrict=tambon).first()
    assert household is not None and household.point is not None
    assert ring[0][0] <= household.point.x < ring[2][0]
    assert ring[0][1] <= household.point.y < ring[2][1]
    assert ring[2][0] - ring[0][0] == pytest.approx(0.01)
    _unreached(tambon, 2)
    collection = json.loads(client.get(reverse("field-funnel-households")).content)
    assert [f["properties"]["children"] for f in collection["features"]] == [6]
    # A coordinator, who visits them, still sees each household.
    points = json.loads(_client(coordinator).get(reverse("field-funnel-households")).content)
    assert {f["geometry"]["type"] for f in points["features"]} == {"Point"}
    assert (
        client.post(reverse("field-funnel-reconcile"), {"academic_year": 2568}).status_code == 403
    )


def _queries(client: Client, url: str, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


# Session, user, scope, reconciled years, then the area and the counts and their
# names (the page) or the points (the GeoJSON).
@pytest.mark.parametrize(("name", "budget"), [("field-funnel", 7), ("field-funnel-households", 5)])
def test_the_funnel_costs_the_same_queries_for_5_or_50_households(
    name: str,
    budget: int,
    coordinator: User,
    persona_districts: Districts,
    django_assert_max_num_queries: Any,
) -> None:
    make(ReconciliationFactory)
    tambon = _tambon(persona_districts)
    client = _client(coordinator)
    url = reverse(name)
    _unreached(tambon, 5)
    few = _queries(client, url, {"area": tambon.code[:4]})
    _unreached(tambon, 45)
    with django_assert_max_num_queries(budget):
        many = _queries(client, url, {"area": tambon.code[:4]})
    assert few == many


# --- reconcile ------------------------------------------------------------------------


def test_a_coordinator_can_reconcile_from_the_funnel(coordinator: User) -> None:
    pytest.importorskip("field.services.reconcile")
    from field.models import Reconciliation

    response = _client(coordinator).post(
        reverse("field-funnel-reconcile"), {"academic_year": TEST_ACADEMIC_YEAR}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('field-funnel')}?year={TEST_ACADEMIC_YEAR}"
    assert Reconciliation.objects.filter(academic_year=TEST_ACADEMIC_YEAR).exists()


def test_the_funnel_switches_to_english(coordinator: User, persona_districts: Districts) -> None:
    make(ReconciliationFactory)
    tambon = _tambon(persona_districts)
    _unreached(tambon, 2)
    client = _client(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("field-funnel"), {"area": tambon.code}).content.decode()
    assert "Children outside school: " + tambon.name_en in html
    assert "No village recorded" in html
    assert "Never enrolled" in html
