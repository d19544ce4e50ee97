"""Who sees what: the area scope, import runs, the funnel's counts and its map."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from factories import (
    TEST_ACADEMIC_YEAR,
    CaseFactory,
    ChildFactory,
    ChildYearFactory,
    DistrictFactory,
    HouseholdFactory,
    ImportRunFactory,
    ProfileFactory,
    ProvinceFactory,
    ReconciliationFactory,
    SubdistrictFactory,
    UserFactory,
    VillageFactory,
    make,
)

from field.models import (
    CaseKind,
    CaseStatus,
    Child,
    ChildStatus,
    Household,
    Precision,
    Role,
    Team,
    Volunteer,
)
from field.selectors import (
    funnel,
    get_import_run,
    import_runs_for_user,
    resolve_area,
    reviews_for_user,
    scope_children,
    scope_households,
    unreached_households,
    user_area,
)
from geo.models import District, Province, Subdistrict

Districts = tuple[District, District]
# Declared for the whole module, so that tests taking personas through
# request.getfixturevalue are ordered with the other database tests, before the
# browser tests (whose event loop would strand a connection opened after them).
pytestmark = pytest.mark.django_db


@pytest.fixture
def tambons(persona_districts: Districts) -> tuple[Subdistrict, Subdistrict]:
    """One tambon in district A, one in district B."""
    return (
        make(SubdistrictFactory, district=persona_districts[0]),
        make(SubdistrictFactory, district=persona_districts[1]),
    )


@pytest.fixture
def elsewhere(db: None) -> Subdistrict:
    """A tambon of another province."""
    return make(SubdistrictFactory, district=make(DistrictFactory, province=make(ProvinceFactory)))


@pytest.fixture
def narrowed(persona_province: Province, persona_districts: Districts) -> User:
    """A coordinator of district A only."""
    user = make(UserFactory, username="coordinator_a")
    make(
        ProfileFactory,
        user=user,
        role=Role.COORDINATOR,
        province=persona_province,
        districts=[persona_districts[0]],
    )
    return user


@pytest.fixture
def admin(db: None) -> User:
    user = make(UserFactory, username="admin")
    make(ProfileFactory, user=user, role=Role.ADMINISTRATOR)
    return user


# --- user_area --------------------------------------------------------------------


def test_a_coordinator_sees_their_province_narrowed_to_their_districts(
    coordinator: User, persona_province: Province, persona_districts: Districts
) -> None:
    scope = user_area(coordinator)
    assert scope.province == persona_province.code
    assert scope.districts == tuple(sorted(d.code for d in persona_districts))
    assert scope.names and scope.may_manage


def test_an_official_sees_their_province_without_names(
    official: User, persona_province: Province
) -> None:
    scope = user_area(official)
    assert (scope.province, scope.districts, scope.names) == (persona_province.code, (), False)
    assert not scope.may_manage


def test_administrators_and_superusers_see_the_country(admin: User) -> None:
    superuser = make(UserFactory, username="root", is_superuser=True)
    for user in (admin, superuser):
        scope = user_area(user)
        assert scope.province is None and scope.root == ""
        assert scope.may_open("10") and scope.may_open("401001")


def test_volunteers_are_scoped_to_their_zone_and_open_no_area(volunteer: User) -> None:
    scope = user_area(volunteer)
    assert scope.role == Role.VOLUNTEER and scope.in_field
    assert scope.volunteer == Volunteer.objects.get(user=volunteer).pk
    assert not scope.teams and not scope.may_manage
    assert not any(scope.may_open(code) for code in ("", "10", "1001", "100101"))
    for read in (
        lambda: import_runs_for_user(volunteer),
        lambda: funnel(user=volunteer, area_code=None, year=None),
        lambda: reviews_for_user(volunteer),
    ):
        with pytest.raises(PermissionDenied):
            read()


def test_a_volunteer_login_with_no_volunteer_linked_is_refused(volunteer: User) -> None:
    Volunteer.objects.filter(user=volunteer).update(user=None)
    with pytest.raises(PermissionDenied):
        user_area(User.objects.get(pk=volunteer.pk))


def test_team_members_are_scoped_to_their_teams_and_open_no_area(
    member_a: User, team_a: Team
) -> None:
    scope = user_area(member_a)
    assert scope.in_field and scope.teams == (team_a.pk,)
    assert not scope.may_manage
    assert not any(scope.may_open(code) for code in ("", "10", "1001", "100101"))
    for read in (
        lambda: import_runs_for_user(member_a),
        lambda: funnel(user=member_a, area_code=None, year=None),
        lambda: reviews_for_user(member_a),
    ):
        with pytest.raises(PermissionDenied):
            read()


def test_anonymous_users_and_users_without_an_area_are_refused(db: None) -> None:
    with pytest.raises(PermissionDenied):
        user_area(AnonymousUser())
    nowhere = make(UserFactory)
    make(ProfileFactory, user=nowhere, role=Role.COORDINATOR, province=None)
    with pytest.raises(PermissionDenied):
        user_area(nowhere)
    with pytest.raises(PermissionDenied):
        user_area(make(UserFactory))  # no profile at all


def test_the_scope_is_read_once_per_user_object(
    coordinator: User, django_assert_num_queries: object
) -> None:
    user = User.objects.get(pk=coordinator.pk)
    with django_assert_num_queries(1):  # type: ignore[operator]
        user_area(user)
        user_area(user)


def test_may_open_follows_the_districts(
    narrowed: User, persona_districts: Districts, tambons: tuple[Subdistrict, Subdistrict]
) -> None:
    scope = user_area(narrowed)
    assert scope.may_open(scope.root)  # the province, shown narrowed to district A
    assert scope.may_open(persona_districts[0].code)
    assert scope.may_open(tambons[0].code)
    assert not scope.may_open(persona_districts[1].code)
    assert not scope.may_open(tambons[1].code)
    assert not scope.may_open("10")
    assert not scope.may_open("")


# --- children and households --------------------------------------------------------


def test_scope_children_keeps_the_users_districts_and_own_unplaced_uploads(
    narrowed: User,
    coordinator: User,
    tambons: tuple[Subdistrict, Subdistrict],
    elsewhere: Subdistrict,
) -> None:
    in_a = make(ChildFactory, household__subdistrict=tambons[0])
    make(ChildFactory, household__subdistrict=tambons[1])
    make(ChildFactory, household__subdistrict=elsewhere)
    own = make(
        ChildFactory,
        household__subdistrict=None,
        household__precision=Precision.UNRESOLVED,
        run__by=narrowed,
    )
    make(  # unplaced, from someone else's file: in nobody's area
        ChildFactory,
        household__subdistrict=None,
        household__precision=Precision.UNRESOLVED,
        run__by=coordinator,
    )
    seen = scope_children(narrowed, Child.objects.all())
    assert set(seen) == {in_a, own}
    households = scope_households(narrowed, Household.objects.all())
    assert set(households) == {in_a.household, own.household}


def test_officials_may_not_list_children_or_households(official: User) -> None:
    with pytest.raises(PermissionDenied):
        scope_children(official, Child.objects.all())
    with pytest.raises(PermissionDenied):
        scope_households(official, Household.objects.all())


# --- import runs --------------------------------------------------------------------


def test_a_coordinator_sees_their_runs_and_command_line_runs(
    coordinator: User, narrowed: User, admin: User
) -> None:
    own = make(ImportRunFactory, by=coordinator)
    cli = make(ImportRunFactory, by=None)
    other = make(ImportRunFactory, by=narrowed)
    assert set(import_runs_for_user(coordinator)) == {own, cli}
    assert set(import_runs_for_user(admin)) == {own, cli, other}
    assert get_import_run(coordinator, cli.pk) == cli
    with pytest.raises(Http404):
        get_import_run(coordinator, other.pk)
    with pytest.raises(Http404):
        get_import_run(coordinator, other.pk + 1000)


def test_officials_see_no_import_run(official: User) -> None:
    run = make(ImportRunFactory, by=None)
    with pytest.raises(PermissionDenied):
        get_import_run(official, run.pk)


# --- areas --------------------------------------------------------------------------


def test_resolve_area_names_the_area_and_those_above(
    coordinator: User, tambons: tuple[Subdistrict, Subdistrict], persona_province: Province
) -> None:
    scope = user_area(coordinator)
    area = resolve_area(scope, tambons[0].code)
    assert area.level == "subdistrict"
    assert area.name == tambons[0].name_th
    assert [code for code, _name in area.trail] == [persona_province.code, tambons[0].code[:4]]
    west, south, east, north = area.extent
    assert west < east and south < north
    assert resolve_area(scope, None).code == persona_province.code


def test_resolve_area_refuses_other_provinces_and_unknown_codes(
    official: User, elsewhere: Subdistrict
) -> None:
    scope = user_area(official)
    with pytest.raises(PermissionDenied):
        resolve_area(scope, elsewhere.code)
    with pytest.raises(PermissionDenied):
        resolve_area(scope, elsewhere.code[:2])
    with pytest.raises(Http404):
        resolve_area(scope, scope.root + "00")  # in the province, but no such district
    with pytest.raises(Http404):
        resolve_area(scope, "4x")


# --- the funnel ---------------------------------------------------------------------


def _year(status: ChildStatus, subdistrict: Subdistrict | None, **fields: object) -> Child:
    precision = fields.pop("precision", Precision.GIVEN if subdistrict else Precision.UNRESOLVED)
    child_year = make(
        ChildYearFactory,
        status=status,
        child__household__subdistrict=subdistrict,
        child__household__precision=precision,
        **fields,
    )
    return child_year.child


def test_the_funnel_counts_each_district_and_the_unplaced(
    coordinator: User, tambons: tuple[Subdistrict, Subdistrict], elsewhere: Subdistrict
) -> None:
    make(ReconciliationFactory)
    a, b = tambons
    _year(ChildStatus.ENROLLED, a)
    _year(ChildStatus.NEVER_ENROLLED, a, precision=Precision.VILLAGE)
    _year(ChildStatus.DROPPED_OUT, a, age=17)
    _year(ChildStatus.REVIEW, b)
    _year(ChildStatus.GRADUATED, b, age=18)
    _year(ChildStatus.NEVER_ENROLLED, elsewhere)  # another province: not counted
    _year(ChildStatus.NEVER_ENROLLED, None, child__run__by=coordinator)
    _year(ChildStatus.NEVER_ENROLLED, a, academic_year=TEST_ACADEMIC_YEAR - 1)  # other year

    result = funnel(user=coordinator, area_code=None, year=None)

    assert result.year == TEST_ACADEMIC_YEAR
    rows = {row.code: row for row in result.rows}
    assert list(rows) == [a.code[:4], b.code[:4], None]
    district_a = rows[a.code[:4]].counts
    assert district_a["population"] == 3
    assert (district_a["enrolled"], district_a["never_enrolled"], district_a["dropped_out"]) == (
        1,
        1,
        1,
    )
    assert district_a["unreached"] == 2
    assert district_a["unreached_compulsory"] == 1  # the 17-year-old is past compulsory age
    assert district_a["unreached_village"] == 1 and district_a["unreached_given"] == 1
    assert rows[b.code[:4]].counts["review"] == 1
    assert rows[b.code[:4]].counts["graduated"] == 1
    assert rows[None].counts["unreached_unresolved"] == 1
    assert not rows[None].drill and rows[a.code[:4]].drill
    assert result.total["population"] == 6
    assert result.total["unreached"] == 3


def test_the_funnel_goes_down_to_the_villages_of_a_tambon(
    coordinator: User, tambons: tuple[Subdistrict, Subdistrict]
) -> None:
    make(ReconciliationFactory)
    village = make(VillageFactory, subdistrict=tambons[0], name="บ้านโนนทอง")
    _year(ChildStatus.NEVER_ENROLLED, tambons[0], child__household__village=village)
    _year(ChildStatus.ENROLLED, tambons[0])

    result = funnel(user=coordinator, area_code=tambons[0].code, year=TEST_ACADEMIC_YEAR)

    assert [row.code for row in result.rows] == [village.code, None]
    assert "บ้านโนนทอง" in result.rows[0].name
    assert not any(row.drill for row in result.rows)


def test_a_narrowed_coordinator_sees_only_their_districts(
    narrowed: User, tambons: tuple[Subdistrict, Subdistrict]
) -> None:
    make(ReconciliationFactory)
    _year(ChildStatus.NEVER_ENROLLED, tambons[0])
    _year(ChildStatus.NEVER_ENROLLED, tambons[1])
    result = funnel(user=narrowed, area_code=None, year=None)
    assert [row.code for row in result.rows] == [tambons[0].code[:4]]
    with pytest.raises(PermissionDenied):
        funnel(user=narrowed, area_code=tambons[1].code[:4], year=None)


def test_without_a_reconciliation_the_funnel_is_empty(coordinator: User) -> None:
    result = funnel(user=coordinator, area_code=None, year=None)
    assert result.year is None and result.rows == []


# --- the map ------------------------------------------------------------------------


def test_the_map_has_one_point_per_household_and_kind_and_no_personal_data(
    coordinator: User,
    official: User,
    tambons: tuple[Subdistrict, Subdistrict],
    elsewhere: Subdistrict,
    settings: Any,
) -> None:
    make(ReconciliationFactory)
    home = make(HouseholdFactory, subdistrict=tambons[0], precision=Precision.VILLAGE)
    for kind, status in [
        (CaseKind.NEVER_ENROLLED, ChildStatus.NEVER_ENROLLED),
        (CaseKind.NEVER_ENROLLED, ChildStatus.NEVER_ENROLLED),
        (CaseKind.DROPPED_OUT, ChildStatus.DROPPED_OUT),
    ]:
        child = make(ChildFactory, household=home)
        make(ChildYearFactory, child=child, status=status)
        make(CaseFactory, child=child, kind=kind)
    closed = make(ChildFactory, household__subdistrict=tambons[1])
    make(ChildYearFactory, child=closed, status=ChildStatus.NEVER_ENROLLED)
    make(
        CaseFactory,
        child=closed,
        status=CaseStatus.CLOSED,
        closed_at=closed.run.started_at,
        close_reason="found_enrolled",
    )
    far = make(ChildFactory, household__subdistrict=elsewhere)
    make(ChildYearFactory, child=far)
    make(CaseFactory, child=far)

    points = unreached_households(user=coordinator, area_code=None, year=None)

    assert points.year == TEST_ACADEMIC_YEAR and not points.truncated
    summary = sorted(
        (f["properties"]["kind"], f["properties"]["children"]) for f in points.features
    )
    assert summary == [("dropped_out", 1), ("never_enrolled", 2)]
    for feature in points.features:
        assert set(feature["properties"]) == {"kind", "precision", "children"}
        assert feature["properties"]["precision"] == "village"
        lon, lat = feature["geometry"]["coordinates"]
        assert home.point is not None
        assert (lon, lat) == pytest.approx((home.point.x, home.point.y), abs=1e-5)

    # An official gets the same children summed in a grid cell, a number only from k.
    settings.SUPPRESS_K = 2
    cells = unreached_households(user=official, area_code=None, year=None)
    summary = sorted((f["properties"]["kind"], f["properties"]["children"]) for f in cells.features)
    assert summary == [("dropped_out", None), ("never_enrolled", 2)]
    for feature in cells.features:
        assert feature["geometry"]["type"] == "Polygon"
        assert set(feature["properties"]) == {"kind", "children", "under"}


def test_the_map_is_cut_at_its_limit_and_says_so(
    coordinator: User, tambons: tuple[Subdistrict, Subdistrict]
) -> None:
    make(ReconciliationFactory)
    for _ in range(3):
        child = make(ChildFactory, household__subdistrict=tambons[0])
        make(ChildYearFactory, child=child)
        make(CaseFactory, child=child)
    points = unreached_households(user=coordinator, area_code=None, year=None, limit=2)
    assert len(points.features) == 2 and points.truncated
    with pytest.raises(PermissionDenied):
        unreached_households(user=coordinator, area_code="10", year=None)


def test_a_national_official_reads_the_country_without_names(db: None) -> None:
    from django.db import IntegrityError, transaction

    user = make(UserFactory)
    make(ProfileFactory, user=user, role=Role.OFFICIAL, province=None, national=True)
    scope = user_area(user)
    assert scope.province is None and scope.role == Role.OFFICIAL
    assert not scope.names and not scope.may_manage
    assert scope.may_open("40") and scope.may_open("100101")
    # Only officials are national, and never with a province: a coordinator marked
    # national would open every name in the country.
    coordinator = make(UserFactory)
    with transaction.atomic(), pytest.raises(IntegrityError):
        make(ProfileFactory, user=coordinator, role=Role.COORDINATOR, province=None, national=True)
    province = Province.objects.first() or make(ProvinceFactory)
    other = make(UserFactory)
    with transaction.atomic(), pytest.raises(IntegrityError):
        make(ProfileFactory, user=other, role=Role.OFFICIAL, province=province, national=True)
    # Without the mark an official with no province still opens nothing.
    bare = make(UserFactory)
    make(ProfileFactory, user=bare, role=Role.OFFICIAL, province=None)
    with pytest.raises(PermissionDenied):
        user_area(bare)
