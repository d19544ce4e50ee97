"""Addresses whose tambon DOPA's current list no longer has, but the loaded map does."""

from __future__ import annotations

import pytest

from field.registry.population import boundary_name_index, make_area_resolver

pytestmark = pytest.mark.django_db

# บางนา (104701) is on the 2019 boundary map; DOPA has since split it in two.
LOADED = [
    ("104701", "บางนา", "บางนา", "กรุงเทพมหานคร"),
    ("400101", "ในเมือง", "เมืองขอนแก่น", "ขอนแก่น"),
    ("300101", "ในเมือง", "เมืองนครราชสีมา", "นครราชสีมา"),
]


def test_a_tambon_on_the_map_is_used_when_the_gazetteer_cannot_place_it() -> None:
    without = make_area_resolver({c for c, *_ in LOADED})
    assert without("บางนา", "บางนา", "กรุงเทพมหานคร", "").code is None
    resolve = make_area_resolver({c for c, *_ in LOADED}, boundary_name_index(LOADED))
    placed = resolve("แขวงบางนา", "เขตบางนา", "กทม.", "")
    assert placed.code == "104701"
    assert placed.warning is not None and "loaded boundaries" in placed.warning


def test_the_map_does_not_guess_between_namesakes() -> None:
    # Two tambons of one (made-up) name on the map, in other districts.
    loaded = [
        *LOADED,
        ("999901", "หนองทดสอบ", "อำเภอหนึ่ง", "จังหวัดหนึ่ง"),
        ("999902", "หนองทดสอบ", "อำเภอสอง", "จังหวัดสอง"),
    ]
    resolve = make_area_resolver({c for c, *_ in loaded}, boundary_name_index(loaded))
    assert resolve("หนองทดสอบ", "", "", "").code is None
    assert resolve("หนองทดสอบ", "อำเภอสอง", "", "").code == "999902"
