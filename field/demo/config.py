"""The shape of the synthetic demo: สพป.ขอนแก่น เขต 1, at its real scale.

Figures follow docs DOMAIN.md: 780 never enrolled and 224 dropped out, 90 small
schools; the children of the whole 3-18 window are about 40,000 (the service area
reports 23,934 "target" children, a subset of them).
"""

from __future__ import annotations

import datetime as dt

SEED = 2568
PROVINCE = "40"
DISTRICTS = ("4001", "4002", "4003")
# Tambons per district in the boundary files (and in DOPA's list): the seed
# refuses to run on anything else.
TAMBONS_PER_DISTRICT = {"4001": 18, "4002": 7, "4003": 5}
OBEC_AREA = 1  # สพป.ขอนแก่น เขต 1
OBEC_SECONDARY_AREA = 25  # the old สพม. เขต 25, Khon Kaen's secondary schools

ACADEMIC_YEAR = 2568
PREVIOUS_YEAR = ACADEMIC_YEAR - 1
# The Thai academic year opens in mid-May; ages are counted on this day.
REFERENCE_DATE = dt.date(ACADEMIC_YEAR - 543, 5, 16)
MIN_AGE, MAX_AGE = 3, 18

IN_WINDOW = 40_000
# Just outside the window, to show that it is applied: ages 0-2 and 19-20.
OUTSIDE_WINDOW_PER_AGE = {0: 80, 1: 80, 2: 80, 19: 100, 20: 100}
NEVER_ENROLLED = 780
DROPPED_OUT = 224
STATELESS = 90
STATELESS_NEVER_ENROLLED = 15
STATELESS_DROPPED_OUT = 5
# Stateless pupils whose schools know them only by a G code.
G_CODED_SHARE = 0.6
# Of the 18-year-olds still in school after 2567, the share going on to a
# vocational diploma (ปวส.); the others finished upper secondary and left.
CONTINUING_AT_18 = 0.2
# Of pupils aged 15-17, the vocational (ปวช.) and non-formal (กศน.) shares.
VOCATIONAL_SHARE = 0.3
NONFORMAL_SHARE = 0.12
MOVED_SHARE = 0.03
MISTYPED_SHARE = 0.02
MISSING_ID_SHARE = 0.005
LOCATED_HOUSEHOLD_SHARE = 0.2

VILLAGES_PER_TAMBON = (8, 20)
VILLAGES_PER_CLUSTER = 4
VILLAGE_SPACING_M = 700.0
HOUSE_SPREAD_M = 250.0

VOLUNTEERS = 60
DEMO_PASSWORD = "takhai-demo-2568"  # noqa: S105 - the documented password of demo logins only
TEAM_A = "ทีมค้นหา ก"
TEAM_B = "ทีมค้นหา ข"
