"""Benchmark: parse 200,000 generated Thai addresses with ``parse_address``.

Usage (from the repository root):

    .venv/bin/python bench/address_parse.py [--addresses 200000] [--repeat 5]

Addresses are generated deterministically (seeded) from every tambon in geothai,
in the shapes government files use: dotted and undotted short forms, full level
words, Bangkok's แขวง/เขต/กทม., Thai digits, doubled spaces, zero-width spaces,
village names, soi and road, and romanised English. The whole set is parsed on
one core, ``--repeat`` times, streamed (results not kept); the median is
reported, with one run that keeps every result in a list. Correctness is the share of
addresses whose tambon, district, province and หมู่ all come back exactly as
generated (names as written, without level words).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import geothai  # noqa: E402

from geo.algorithms.thai_address import ParsedAddress, parse_address  # noqa: E402

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


class Case(NamedTuple):
    text: str
    subdistrict: str
    district: str
    province: str
    moo: int | None


def _areas() -> list[tuple[str, str, str, str, str, str, str, bool]]:
    rows = []
    for p in geothai.provinces():
        for d in geothai.districts(p.code):
            for s in geothai.subdistricts(d.code):
                rows.append(
                    (
                        s.name_th,
                        d.name_th.removeprefix("เขต"),
                        p.name_th,
                        s.name_en,
                        d.name_en,
                        p.name_en,
                        s.postal_codes[0],
                        p.code == "10",
                    )
                )
    return rows


def generate(count: int, seed: int = 20261121) -> list[Case]:
    rng = random.Random(seed)
    areas = _areas()
    cases = []
    for _ in range(count):
        tambon, amphoe, changwat, tambon_en, amphoe_en, changwat_en, post, bkk = rng.choice(areas)
        house = str(rng.randint(1, 999)) + (f"/{rng.randint(1, 30)}" if rng.random() < 0.4 else "")
        moo = None if bkk else rng.randint(1, 25)
        style = rng.random()
        if style < 0.12:  # romanised
            parts = [house]
            if moo is not None:
                parts.append(f"{rng.choice(['Moo', 'Moo.', 'Mu'])} {moo}")
            parts.append(f"{'Khwaeng' if bkk else 'Tambon'} {tambon_en}")
            parts.append(f"{'Khet' if bkk else 'Amphoe'} {amphoe_en}")
            parts.append(f"{changwat_en} {post}")
            province = _BANGKOK if bkk else changwat_en
            cases.append(Case(", ".join(parts), tambon_en, amphoe_en, province, moo))
            continue
        short = style < 0.6
        sp = rng.choice(["", "", " ", "  "])
        words = [rng.choice(["", "บ้านเลขที่ ", "เลขที่ "]) + house]
        if moo is not None:
            word = rng.choice(["ม.", "ม. ", "ม ", "หมู่ ", "หมู่ที่ ", "หมู่ที่"]) if short else "หมู่ที่ "
            words.append(f"{word}{moo}")
            if rng.random() < 0.3:
                words.append("บ้าน" + rng.choice(["โนนสะอาด", "หนองแวง", "นาดี", "ดอนตูม"]))
        if rng.random() < 0.2:
            words.append(rng.choice(["ซ.", "ซอย"]) + sp + f"สุขใจ {rng.randint(1, 99)}")
        if rng.random() < 0.2:
            words.append(rng.choice(["ถ.", "ถนน"]) + sp + "มิตรภาพ")
        if bkk:
            words.append("แขวง" + sp + tambon)
            words.append("เขต" + sp + amphoe)
            words.append(rng.choice(["กทม.", "กรุงเทพฯ", "กรุงเทพมหานคร", "จ.กรุงเทพมหานคร"]))
        else:
            words.append((rng.choice(["ต.", "ต.", "ต "]) if short else "ตำบล") + sp + tambon)
            words.append((rng.choice(["อ.", "อ.", "อ "]) if short else "อำเภอ") + sp + amphoe)
            words.append((rng.choice(["จ.", "จ.", "จ "]) if short else "จังหวัด") + sp + changwat)
        if rng.random() < 0.7:
            words.append(post)
        text = rng.choice([" ", " ", "  "]).join(words)
        if rng.random() < 0.1:
            text = text.translate(THAI_DIGITS)
        if rng.random() < 0.05:
            text = text.replace(" ", " \u200b", 1)
        cases.append(Case(text, tambon, amphoe, _BANGKOK if bkk else changwat, moo))
    return cases


_BANGKOK = "กรุงเทพมหานคร"


def correct(case: Case, parsed: ParsedAddress) -> bool:
    return (
        parsed.subdistrict == case.subdistrict
        and parsed.district == case.district
        and parsed.province == case.province
        and parsed.moo == case.moo
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--addresses", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show-wrong", type=int, default=0)
    args = parser.parse_args()

    cases = generate(args.addresses)
    texts = [c.text for c in cases]
    timings = []
    for _ in range(args.repeat):
        # Streamed, as the importer reads a register row by row: holding 200,000
        # results in one list makes the cyclic GC rescan them all (reported below).
        start = time.perf_counter()
        for text in texts:
            parse_address(text)
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    start = time.perf_counter()
    results = [parse_address(t) for t in texts]
    kept = time.perf_counter() - start
    right = [correct(c, r) for c, r in zip(cases, results, strict=True)]
    wrong = [(c, r) for c, r, ok in zip(cases, results, right, strict=True) if not ok]
    for case, parsed in wrong[: args.show_wrong]:
        print(case, parsed, sep="\n  ")
    print(f"addresses: {len(texts):,}")
    print(f"runs (s): {', '.join(f'{t:.3f}' for t in timings)}")
    print(f"median: {median:.3f} s = {len(texts) / median:,.0f} addresses/s on one core")
    print(f"all results kept in one list (one run): {len(texts) / kept:,.0f} addresses/s")
    print(f"correct (tambon, district, province, moo): {sum(right) / len(right):.2%}")


if __name__ == "__main__":
    main()
