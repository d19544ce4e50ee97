"""Class breaks for choropleth legends, chosen from the data.

Pure functions on plain data, no Django. Fixed legends (0-10, 10-50, ...) suit
one level of the map and no other: a tambon's count of out-of-school children
is a few, a province's hundreds. So the breaks come from the values shown, by
mapclassify (PySAL's classification library; Fisher-Jenks is not ours to
rewrite):

- ``"quantiles"``: each class holds about as many areas as the next.
- ``"natural"``: Fisher-Jenks, the grouping with the least spread within
  classes, so that clusters of similar areas share a colour.

Withheld cells (``None``, see ``suppression``) are left out: their values are
unknown, and fitting breaks to them would leak them.

mapclassify's Fisher-Jenks runs in pure Python here (no numba), in time that
grows with the square of the number of values: about 1.5 s for 1,000 values
and 15 s for 3,000. Above ``NATURAL_SAMPLE`` values it is run on that many
values evenly spaced by rank in the sorted data, with the lowest and highest
kept (and every distinct value once more, when there are few). That keeps
the shape of the distribution, unlike mapclassify's own ``FisherJenksSampled``,
whose random sample would give a different legend on every page load.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Literal

import mapclassify

__all__ = ["NATURAL_SAMPLE", "breaks", "class_of"]

NATURAL_SAMPLE = 400

Method = Literal["quantiles", "natural"]


def breaks(values: Iterable[float | None], *, method: Method, classes: int = 5) -> list[float]:
    """Upper bounds of the classes, ascending and distinct; the last is the largest value.

    ``None`` (withheld) and values that are not finite are ignored; no values
    give no breaks. With no more distinct values than ``classes``, each distinct
    value is a class of its own; ties in quantiles can also give fewer classes
    than asked for, never a repeated bound.
    """
    if classes < 1:
        raise ValueError(f"classes must be at least 1, not {classes}")
    if method not in ("quantiles", "natural"):
        raise ValueError(f"unknown method {method!r}")
    data = sorted(float(v) for v in values if v is not None and math.isfinite(v))
    distinct = sorted(set(data))
    if len(distinct) <= classes:
        return distinct

    with warnings.catch_warnings():
        # Both are expected here and handled: the slow path without numba (see
        # the module docstring), and fewer classes when quantiles tie.
        warnings.filterwarnings("ignore", message="Numba not installed")
        warnings.filterwarnings("ignore", message="Not enough unique values")
        if method == "quantiles":
            bins = mapclassify.Quantiles(data, k=classes).bins
        else:
            sample = _sample(data, distinct, NATURAL_SAMPLE)
            bins = mapclassify.FisherJenks(sample, k=min(classes, len(set(sample)))).bins

    bounds: list[float] = []
    for value in (float(b) for b in bins):
        if not bounds or value > bounds[-1]:
            bounds.append(value)
    # The top class must reach the largest value, even where the sample or
    # floating point rounding would leave it a hair short.
    bounds[-1] = max(bounds[-1], data[-1])
    return bounds


def class_of(value: float | None, breaks: Sequence[float]) -> int | None:
    """The class (0 = lowest) of ``value``: the first whose upper bound it does not exceed.

    ``None`` for a withheld or non-finite value, or without breaks. A value below
    the first bound is in class 0, one above the last in the last class (as in
    mapclassify), so breaks reused for another year still colour every area.
    """
    if value is None or not math.isfinite(value) or not breaks:
        return None
    return min(bisect.bisect_left(breaks, value), len(breaks) - 1)


def _sample(data: Sequence[float], distinct: Sequence[float], size: int) -> list[float]:
    """About ``size`` values of sorted ``data`` at evenly spaced ranks, first and last included.

    When there are few distinct values (counts of children often are), each is
    kept once more, so that a rare large value is not lost to a sea of zeros.
    """
    if len(data) <= size:
        return list(data)
    extra = list(distinct) if len(distinct) <= size // 2 else []
    count = size - len(extra)
    last = len(data) - 1
    return sorted([data[round(i * last / (count - 1))] for i in range(count)] + extra)
