"""People's names as registers write them, and the key that matching compares.

Schools and district offices type the same child differently: "ด.ช. สมชาย",
"เด็กชายสมชาย", "สมชาย  ใจดี" with a doubled space, a tone mark typed before its
vowel, Thai written with decomposed characters. ``name_key`` folds all of these
to one string; what is left (a changed or missing letter) is for the fuzzy
score of the matcher.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from geo.algorithms.thai_names import fix_thai_typing

# Longest first, so that "นางสาว" is not read as "นาง" + "สาว...".
TITLES: Final = tuple(
    sorted(
        (
            "เด็กชาย",
            "เด็กหญิง",
            "ด.ช.",
            "ด.ญ.",
            "ดช.",
            "ดญ.",
            "นางสาว",
            "น.ส.",
            "นส.",
            "นาย",
            "นาง",
            "สามเณร",
            "ส.ณ.",
            "พระ",
            "master",
            "miss",
            "mrs.",
            "mrs",
            "mr.",
            "mr",
            "ms.",
            "ms",
        ),
        key=len,
        reverse=True,
    )
)
# One match per name instead of a loop over the titles: the importer's hot path.
# English titles only as a word of their own ("Mr. X", not "Mrinal").
_TITLE_AT_START: Final = re.compile(
    "("
    + "|".join(re.escape(t) if not t.isascii() else re.escape(t) + r"(?=[ .])" for t in TITLES)
    + r")[ .]*",
    re.IGNORECASE,
)
_FOLLOWING_SIGNS: Final = frozenset(
    "\u0e30\u0e31\u0e32\u0e33"
    + "".join(map(chr, range(0x0E34, 0x0E3B)))
    + "".join(map(chr, range(0x0E45, 0x0E4F)))
)
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")
_SEXES: Final = {
    "ช": "M",
    "ชาย": "M",
    "m": "M",
    "male": "M",
    "1": "M",
    "ญ": "F",
    "หญิง": "F",
    "f": "F",
    "female": "F",
    "2": "F",
}


@lru_cache(maxsize=65536)
def split_title(name: str) -> tuple[str, str]:
    """(title, name) for a name that may start with a title: "ด.ช.สมชาย" ->
    ("ด.ช.", "สมชาย"). An English title counts only as a word of its own."""
    text = name.strip()
    found = _TITLE_AT_START.match(text)
    if found is None:
        return "", text
    title = found.group(1)
    rest = text[found.end() :]
    # "นายิกา" and "นางาม" are names, not "นาย" + "ิกา": a title is followed
    # by a consonant or a leading vowel, never by a vowel sign or tone mark.
    if not rest or rest[0] in _FOLLOWING_SIGNS:
        return "", text
    return title, rest


@lru_cache(maxsize=131072)
def clean_name(name: str) -> str:
    """One name as matching compares it: NFC, no title, typing slips folded,
    no spaces, lower case. Thai names have no inner spaces; registers add them."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", name))
    _, text = split_title(text)
    text = fix_thai_typing(text)
    return _SPACES.sub("", text).casefold()


def name_key(first_name: str, last_name: str) -> str:
    """ "first last", each cleaned: the string the matcher's fuzzy score compares."""
    return f"{clean_name(first_name)} {clean_name(last_name)}".strip()


def read_sex(raw: str) -> str | None:
    """ "M", "F", "" for blank, or None for a value that is not a sex."""
    found = _SEXES.get(raw)
    if found is not None:
        return found
    text = raw.strip().rstrip(".").casefold()
    if not text:
        return ""
    return _SEXES.get(text)
