"""Builds the whole synthetic world from the real tambons, without a database."""

from __future__ import annotations

import random

from field.demo import config
from field.demo.enrolment import make_registers
from field.demo.people import make_volunteers
from field.demo.places import make_clusters, make_villages
from field.demo.population import make_population
from field.demo.records import DemoData, Tambon
from field.demo.schools import make_schools
from field.demo.truth import make_truth


def _rng(step: str) -> random.Random:
    # One stream per step (string seeds hash the same in every process), so a
    # change to one step leaves the others' output as it was.
    return random.Random(f"{config.SEED}:{step}")  # noqa: S311 - synthetic data, not secrets


def generate(tambons: list[Tambon]) -> DemoData:
    tambons = sorted(tambons, key=lambda t: t.code)
    villages = make_villages(_rng("villages"), tambons)
    clusters = make_clusters(tambons, villages)
    schools = make_schools(_rng("schools"), tambons, villages)
    households, children = make_population(_rng("population"), tambons, villages)
    enrolment = make_registers(_rng("enrolment"), schools, children, households)
    volunteers = make_volunteers(_rng("volunteers"), tambons, villages)
    data = DemoData(
        tambons, villages, clusters, schools, households, children, enrolment, volunteers
    )
    data.truth = make_truth(data)
    return data
