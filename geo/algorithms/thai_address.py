"""Splits free-text Thai addresses, as government files write them, into their parts.

``parse_address("33/1 ม.4 ต.ในเมือง อ.เมืองขอนแก่น จ.ขอนแก่น 40000")`` gives house
number 33/1, หมู่ 4, tambon ในเมือง, district เมืองขอนแก่น, province ขอนแก่น and
postcode 40000. ``parse_fields`` cleans the same parts when a file already has them
in columns ("หมู่ 4" -> 4, "ต.ในเมือง" -> "ในเมือง").

This module only splits and cleans: names stay as written (without their level
word, with Thai digits, invisible characters and typing slips fixed, and spaces
inside a Thai name removed); turning them into codes is ``geo.gazetteer``'s job.
The one rewrite is Bangkok's short forms (กทม., กรุงเทพฯ) to กรุงเทพมหานคร, because
they stand for the province without a level word.

How the text is read:

1. Thai digits become ASCII, invisible characters go, commas become breaks, runs
   of spaces become one, and Thai typing slips are folded (only when one is seen:
   this is the hot path of the registry importer).
2. A trailing five-digit number is the postcode.
3. One precompiled pattern finds the level words (บ้านเลขที่, หมู่ที่, ม., บ้าน after
   the หมู่, ซ., ถ., ต./ตำบล/แขวง, อ./อำเภอ/เขต, จ./จังหวัด, กทม., and the English
   Moo, Soi, Tambon, Amphoe, Khet, Changwat ...). The text up to the next level
   word or comma is that part's value.

The level words that also occur inside names (เขต in หลักเขต, หมู่ in ม่วงหมู่, ถนน in
คลองถนน) count only after a space, a digit or punctuation. The bare short forms
(ต, อ, จ and ม without their dot) count only as a word of their own, followed by a
space (ม by a number), because อ, ต and จ also begin names. A level word right
after another one with nothing between them is part of the name (ต.ถนนใหญ่,
ต.จ.ป.ร., จ.กรุงเทพมหานคร). English addresses often leave the province without its
word ("..., Amphoe Mueang Khon Kaen, Khon Kaen 40000"): a last unmarked part after
a district is taken as the province; "X District", "X Province", "X Road" are read
by their trailing word.

Anything that fits no part is kept, in order, in ``unparsed``.

Speed: most register addresses have the usual shape (house, หมู่, village, soi,
road, tambon, district, province, postcode, in that order), which one precompiled
pattern reads in a single match; only the rest go through the level-word reading
above. Both give the same parts for the usual shape (the tests check it).
Figures in docs/benchmarks.md.

Known gaps: a dotted short form right after a dotted abbreviation with no space
(ต.จ.ป.ร.อ.กระบุรี) is not split; an unmarked province after a Thai district
("อ.เมือง ขอนแก่น") stays in the district, since only the gazetteer can tell.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, NamedTuple

from geo.algorithms.thai_names import fix_thai_typing

__all__ = ["ParsedAddress", "parse_address", "parse_fields"]

_BANGKOK: Final = "กรุงเทพมหานคร"


class ParsedAddress(NamedTuple):
    """The parts of one address, cleaned but not resolved; None when absent.

    A NamedTuple rather than a frozen dataclass: it is as immutable, and building
    one costs 0.2 us instead of 2.4 us, a quarter of the time of a whole parse.
    """

    house_no: str | None = None
    moo: int | None = None
    village_name: str | None = None
    soi: str | None = None
    road: str | None = None
    subdistrict: str | None = None
    district: str | None = None
    province: str | None = None
    postcode: str | None = None
    unparsed: tuple[str, ...] = ()


# --- cleaning ------------------------------------------------------------------

_TRANSLATE: Final = str.maketrans(
    {
        **{chr(0x0E50 + i): str(i) for i in range(10)},
        **dict.fromkeys(["\u00ad", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f"]),
        **dict.fromkeys(["\u2060", "\ufeff"]),
        "\u00a0": " ",
        "\u3000": " ",
        "，": ",",
    }
)
# str.translate with a dict is slow on Thai text; most addresses need none of it.
_NEEDS_TRANSLATE = re.compile("[\u0e50-\u0e59\u00ad\u200b-\u200f\u2060\ufeff\u00a0\u3000，]")

_TONES = "\u0e48\u0e49\u0e4a\u0e4b"
_ABOVE_VOWELS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47"
_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
# The slips fix_thai_typing folds that a substring test cannot see: a tone typed
# before the vowel above it, a mark typed twice. Starting with a character class
# lets the regex engine skip ahead, so clean text costs one quick scan.
_TYPING_SLIP = re.compile(f"([{_MARKS}])(?:\\1|(?<=[{_TONES}])[{_ABOVE_VOWELS}])")

_THAI = "\u0e01-\u0e4e"
_SPACE_IN_THAI = re.compile(f"(?<=[{_THAI}]) (?=[{_THAI}])")
_POSTCODE_AT_END = re.compile(r"(?<![\d/-])\d{5}")
_FIVE_DIGITS = re.compile(r"(?<!\d)\d{5}(?!\d)")
_HOUSE_NO = re.compile(r"(\d+(?: ?/ ?\d+)*(?:-\d+)?(?: ?[ก-ฮ](?![ก-๎]))?)")
_LEADING_INT = re.compile(r"(\d{1,3})(?!\d)")
_VILLAGE_START = re.compile(r"หมู่บ้าน ?|(?=บ้าน)|(?i:(?=ban ))")
_STRIP: Final = " .,-:;"
_STRIP_NAME: Final = " ,-:;"
_ASCII_LETTER = re.compile("[A-Za-z]")


def _prepare(text: str) -> str:
    """Digits, invisible characters and spaces; typing slips are left to the caller."""
    if _NEEDS_TRANSLATE.search(text) is not None:
        text = text.translate(_TRANSLATE)
    return " ".join(text.split())


def _fix_typing(text: str) -> str:
    if "\u0e4d" in text or "เเ" in text or _TYPING_SLIP.search(text) is not None:
        return fix_thai_typing(text)
    return text


# The same few thousand names come back all the time: fixing each once is cheaper
# than scanning every whole address for typing slips.
_fixed_name = lru_cache(maxsize=65536)(_fix_typing)


def _fixed(name: str | None) -> str | None:
    return None if name is None else _fixed_name(name)


def _clean_name(value: str) -> str:
    value = value.strip(_STRIP_NAME)
    # A trailing dot ends an abbreviated name (จ.ป.ร.) or is punctuation (ขอนแก่น.).
    if value.endswith(".") and "." not in value[:-1]:
        value = value[:-1].rstrip(_STRIP_NAME)
    if " " in value:
        value = _SPACE_IN_THAI.sub("", value)
    return value


# --- the level words -----------------------------------------------------------


def _word(word: str) -> str:
    """A level word that also occurs inside names: not right after a Thai letter.

    The look-behind comes after the word so that every branch of the pattern starts
    with a literal; the regex engine then skips quickly to where one can match
    (with a look-behind first, or with named groups, parsing is 20 times slower).
    """
    return f"{word}(?<![{_THAI}]{word})"


def _dotted(letter: str) -> str:
    """A short form with its dot, not inside a dotted abbreviation (จ.ป.ร.)."""
    return f"{letter}\\.(?<!\\.{letter}\\.)"


def _bare(letter: str, before: str = "(?= )") -> str:
    """A short form without its dot: a word of its own."""
    return f"{letter}(?<![{_THAI}.]{letter}){before}"


def _thai_or_joined(word: str) -> str:
    """A full level word that no name contains whole: after a Thai letter only when
    the name follows without a space (บ้านโนนสะอาดตำบลบ้านค้อ); "สามตำบล " is a name."""
    return f"{word}(?:(?<![{_THAI}]{word})|(?=[{_THAI}]))"


_THAI_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "house": (_word("บ้านเลขที่"), _word("เลขที่")),
    "village": (_word("หมู่บ้าน"),),
    "moo": (_word("หมู่") + "(?: ?ที่)?", _dotted("ม") + "(?: ?ที่)?", _bare("ม", "(?= ?\\d)")),
    "soi": (_word("ซอย"), _dotted("ซ")),
    "road": (_word("ถนน"), _dotted("ถ")),
    "subdistrict": (_thai_or_joined("ตำบล"), "แขวง", _dotted("ต"), _bare("ต")),
    "district": (
        "กิ่ง ?อำเภอ",
        "กิ่ง ?อ\\.",
        _thai_or_joined("อำเภอ"),
        _word("เขต"),
        _dotted("อ"),
        _bare("อ"),
    ),
    "province": (_thai_or_joined("จังหวัด"), _dotted("จ"), _bare("จ")),
    "bangkok": (_word("กรุงเทพมหานคร"), _word("กรุงเทพฯ"), _word("กรุงเทพ"), _word("กทม") + "\\.?"),
    "postcode": ("รหัสไปรษณีย์",),
}
_ENGLISH_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "house": ("house no",),
    "village": ("mooban", "muban"),
    "moo": ("moo", "mu", "village no"),
    "soi": ("soi",),
    "road": ("thanon",),
    "subdistrict": ("tambon", "tambol", "khwaeng", "kwaeng"),
    "district": ("king amphoe", "amphoe", "amphur", "amphor", "khet"),
    "province": ("changwat",),
    "bangkok": ("bangkok", "bkk"),
    "postcode": ("postcode", "zip"),
}


def _english(words: tuple[str, ...]) -> str:
    # A whole word, and one with a name after it: Tambon in "Sam Tambon," and Soi in
    # "Nikhom Kham Soi," end a name. The look-ahead on the first letters lets the
    # engine skip the rest of the branch at almost every position.
    first = "".join(sorted({c for w in words for c in (w[0], w[0].upper())}))
    return f"(?=[{first}])(?i:\\b(?:{'|'.join(words)})\\b\\.?(?! ?(?:,|$)))"


_THAI_PATTERN = "|".join(p for patterns in _THAI_WORDS.values() for p in patterns)
_THAI_MARKER = re.compile(f"{_THAI_PATTERN}|,")
_ANY_MARKER = re.compile(
    f"{_THAI_PATTERN}|,|{_english(tuple(w for ws in _ENGLISH_WORDS.values() for w in ws))}"
)

# Which part a level word begins, by the word as matched without spaces or dots.
_KIND: Final[dict[str, str]] = {
    **{word.replace(" ", ""): kind for kind, words in _ENGLISH_WORDS.items() for word in words},
    **{
        word: kind
        for kind, words in {
            "house": ("บ้านเลขที่", "เลขที่"),
            "village": ("หมู่บ้าน",),
            "moo": ("หมู่", "หมู่ที่", "ม", "มที่"),
            "soi": ("ซอย", "ซ"),
            "road": ("ถนน", "ถ"),
            "subdistrict": ("ตำบล", "แขวง", "ต"),
            "district": ("กิ่งอำเภอ", "กิ่งอ", "อำเภอ", "เขต", "อ"),
            "province": ("จังหวัด", "จ"),
            "bangkok": ("กรุงเทพมหานคร", "กรุงเทพฯ", "กรุงเทพ", "กทม"),
            "postcode": ("รหัสไปรษณีย์",),
        }.items()
        for word in words
    },
    ",": "break",
}


def _kind(word: str) -> str:
    return _KIND[word.replace(" ", "").replace(".", "").lower()]


# English parts named by a trailing word: "Sukhumvit Road", "Bang Kapi District".
_EN_SUFFIX = re.compile(
    r"^(?P<name>.+?) (?:(?P<road>road|rd\.?)|(?P<subdistrict>sub-? ?district)"
    r"|(?P<district>district)|(?P<province>province))$",
    re.IGNORECASE,
)

# For parse_fields: the level word a column's value may still carry.
_COLUMN_PREFIX: Final[dict[str, re.Pattern[str]]] = {
    kind: re.compile(f"(?:{'|'.join(_THAI_WORDS[kind])}|{_english(_ENGLISH_WORDS[kind])}) ?")
    for kind in ("house", "moo", "subdistrict", "district", "province")
}
_BANGKOK_NAMES: Final = frozenset(
    {"กรุงเทพมหานคร", "กรุงเทพฯ", "กรุงเทพ", "กทม", "bangkok", "bkk", "krung thep maha nakhon"}
)
_COLUMN_SUFFIX = re.compile(r" (?:sub-? ?district|district|province)$", re.IGNORECASE)


# The usual shape, in the usual order, in one match: most addresses in a register
# are written like this, and reading them with one regex call is several times
# faster than the general reading below, which gives the same parts for them
# (tests/geo/algorithms/test_thai_address.py checks both on generated addresses).
_NAME = "[\u0e01-\u0e4e]+"
# A soi or road name: no Thai digits or invisible characters, which _prepare fixes.
_WORDS = "[^\\s,.\u0e50-\u0e59\u00ad\u200b-\u200f\u2060\ufeff]+"
# Each level word as the general reading accepts it: full words after a space
# (or joined to the name that follows), dotted forms anywhere, bare forms alone.
_SUB = "(?: ตำบล ?|ตำบล(?=[\u0e01-\u0e4e])| ?ต\\. ?| ต | ?แขวง ?)"
_DIST = "(?: อำเภอ ?|อำเภอ(?=[\u0e01-\u0e4e])| ?อ\\. ?| อ | เขต ?)"
_PROV = "(?: จังหวัด ?|จังหวัด(?=[\u0e01-\u0e4e])| ?จ\\. ?| จ )"
_USUAL_SHAPE = re.compile(
    "(?:(?:บ้านเลขที่|เลขที่) ?)?(?P<house>[0-9๐-๙]+(?:/[0-9๐-๙]+)*)"
    "(?: ?(?:หมู่(?: ?ที่)?|ม\\.(?: ?ที่)?|ม) ?(?P<moo>[0-9๐-๙]{1,3}))?"
    f"(?: (?P<village>บ้าน{_NAME}))?"
    f"(?:(?: ซอย ?| ?ซ\\. ?)(?P<soi>{_WORDS}(?: [0-9]+(?:/[0-9]+)?)?))?"
    f"(?:(?: ถนน ?| ?ถ\\. ?)(?P<road>{_WORDS}))?"
    f"{_SUB}(?P<subdistrict>{_NAME}){_DIST}(?P<district>{_NAME})"
    f"(?:(?:{_PROV}| )(?P<bangkok>กรุงเทพมหานคร|กรุงเทพฯ|กรุงเทพ|กทม\\.?)"
    f"|{_PROV}(?P<province>{_NAME}))"
    "(?: (?P<postcode>[0-9๐-๙]{5}))?"
)
_EN_NAME = "[A-Za-z][A-Za-z '()-]*?"
_USUAL_ENGLISH = re.compile(
    "(?:(?P<house>\\d+(?:/\\d+)*),? )?"
    "(?:(?:moo|mu|village no)\\.? ?(?P<moo>\\d{1,3}),? )?"
    f"(?:tambon|tambol|khwaeng|kwaeng)\\.? (?P<subdistrict>{_EN_NAME}), "
    f"(?:amphoe|amphur|amphor|khet)\\.? (?P<district>{_EN_NAME}), "
    f"(?:changwat\\.? )?(?P<province>{_EN_NAME})(?:,? (?P<postcode>\\d{{5}}))?",
    re.IGNORECASE,
)


# --- parsing -------------------------------------------------------------------


class _Builder:
    """Collects the parts; the first value of a part wins, repeats go to unparsed."""

    __slots__ = (
        "district",
        "house_no",
        "moo",
        "postcode",
        "province",
        "road",
        "soi",
        "subdistrict",
        "unparsed",
        "village_name",
    )

    def __init__(self) -> None:
        self.house_no: str | None = None
        self.moo: int | None = None
        self.village_name: str | None = None
        self.soi: str | None = None
        self.road: str | None = None
        self.subdistrict: str | None = None
        self.district: str | None = None
        self.province: str | None = None
        self.postcode: str | None = None
        self.unparsed: list[str] = []

    def leftover(self, value: str) -> None:
        value = value.strip(_STRIP)
        if value:
            self.unparsed.append(value)

    def name(self, field: str, value: str) -> None:
        value = _clean_name(value)
        if not value:
            return
        if field == "province" and value.lower().rstrip(".") in _BANGKOK_NAMES:
            value = _BANGKOK
        if getattr(self, field) is None:
            setattr(self, field, value)
        else:
            self.unparsed.append(value)

    def village(self, value: str) -> None:
        """Village name from text after a house number or หมู่, if it looks like one."""
        value = value.strip(_STRIP)
        if not value:
            return
        match = _VILLAGE_START.match(value)
        if match is not None and self.village_name is None:
            self.village_name = _clean_name(value[match.end() :]) or None
        else:
            self.unmarked(value, is_last=False)

    def house(self, value: str) -> None:
        value = value.strip(_STRIP)
        match = _HOUSE_NO.match(value)
        if match is None or self.house_no is not None:
            self.village(value)
            return
        self.house_no = match.group(1).replace(" ", "")
        self.village(value[match.end() :])

    def moo_value(self, value: str) -> None:
        value = value.strip(_STRIP)
        match = _LEADING_INT.match(value)
        if match is None or self.moo is not None:
            self.leftover(value)
            return
        self.moo = int(match.group(1))
        rest = value[match.end() :].strip(_STRIP)
        if rest:
            if self.village_name is None:
                self.village_name = _clean_name(rest.removeprefix("หมู่บ้าน"))
            else:
                self.unparsed.append(rest)

    def postcode_value(self, value: str) -> None:
        match = _FIVE_DIGITS.search(value)
        if match is None or self.postcode is not None:
            self.leftover(value)
            return
        self.postcode = match.group(0)
        self.leftover(value[: match.start()] + " " + value[match.end() :])

    def unmarked(self, value: str, is_last: bool) -> None:
        """A comma-separated part without a level word in front."""
        value = value.strip(_STRIP)
        if not value:
            return
        match = _EN_SUFFIX.match(value)
        if match is not None and match.lastgroup is not None:
            self.name(match.lastgroup, match.group("name"))
        elif is_last and self.province is None and self.district is not None:
            self.name("province", value)
        else:
            self.unparsed.append(value)

    def build(self) -> ParsedAddress:
        return ParsedAddress(
            self.house_no,
            self.moo,
            self.village_name,
            self.soi,
            self.road,
            self.subdistrict,
            self.district,
            self.province,
            self.postcode,
            tuple(self.unparsed),
        )


_NAME_FIELDS: Final = frozenset({"soi", "road", "subdistrict", "district", "province"})


def _assign(out: _Builder, field: str | None, value: str, is_last: bool) -> None:
    if field is None:
        out.unmarked(value, is_last)
    elif field in _NAME_FIELDS:
        out.name(field, value)
    elif field == "moo":
        out.moo_value(value)
    elif field == "house":
        out.house(value)
    elif field == "village":
        out.village_name = out.village_name or _clean_name(value) or None
    elif field == "postcode":
        out.postcode_value(value)
    else:  # text after กทม. with no level word of its own
        out.leftover(value)


def _parse_usual_shape(text: str) -> ParsedAddress | None:
    usual = _USUAL_SHAPE.fullmatch(text)
    if usual is None:
        return None
    house, moo, village, soi, road, sub, dist, bkk, prov, post = usual.groups()
    return ParsedAddress(
        house if house.isascii() else house.translate(_TRANSLATE),
        int(moo) if moo is not None else None,
        _fixed(village),
        _fixed(soi),
        _fixed(road),
        _fixed_name(sub),
        _fixed_name(dist),
        _BANGKOK if bkk is not None else _fixed_name(prov),
        post if post is None or post.isascii() else post.translate(_TRANSLATE),
    )


def parse_address(text: str) -> ParsedAddress:
    """Splits one free-text Thai (or romanised) address into its parts.

    Args:
        text: The address as written, e.g. "33/1 ม.4 ต.ในเมือง อ.เมืองขอนแก่น
            จ.ขอนแก่น 40000" or "Moo 4, Tambon Nai Mueang, Amphoe Mueang Khon
            Kaen, Khon Kaen 40000".

    Returns:
        The parts found, names cleaned but not resolved, and the rest in
        ``unparsed``.

    Example:
        >>> parse_address("99/12 ซ.ลาดพร้าว 101 แขวงคลองจั่น เขตบางกะปิ กทม. 10240").soi
        'ลาดพร้าว 101'
    """
    # Thai digits are left to the quick path's few digit fields; anything else that
    # needs translating (zero-width spaces) makes the quick path fail, and it is
    # tried again on the prepared text.
    text = " ".join(text.split())
    quick = _parse_usual_shape(text)
    if quick is not None:
        return quick
    prepared = _prepare(text)
    if prepared != text:
        quick = _parse_usual_shape(prepared)
        if quick is not None:
            return quick
    text = prepared
    if _ASCII_LETTER.search(text) is not None:
        usual = _USUAL_ENGLISH.fullmatch(text)
        if usual is not None:
            house, moo, sub, dist, prov, post = usual.groups()
            if prov.lower() in _BANGKOK_NAMES:
                prov = _BANGKOK
            return ParsedAddress(
                house,
                int(moo) if moo is not None else None,
                None,
                None,
                None,
                sub,
                dist,
                prov,
                post,
            )
    return _parse_general(_fix_typing(text))


def _parse_general(text: str) -> ParsedAddress:
    """Reads an address level word by level word; ``text`` is already prepared."""
    out = _Builder()
    end = len(text.rstrip(_STRIP))
    tail = _POSTCODE_AT_END.match(text, max(end - 5, 0), end)
    if tail is not None:
        out.postcode = tail.group(0)
        end = tail.start()

    lead_end = -1
    field: str | None = None  # the part whose value is being read; None: no level word
    value_start = 0
    after_break = False
    marker = _ANY_MARKER if _ASCII_LETTER.search(text) is not None else _THAI_MARKER
    for match in marker.finditer(text, 0, end):
        kind = _kind(match.group())
        if kind != "break" and field is not None and field != "bangkok":
            between = text[value_start : match.start()]
            if not between.strip(_STRIP):
                continue  # ต.ถนนใหญ่, ต.จ.ป.ร.: a level word that begins the name
        value = text[value_start : match.start()]
        if lead_end < 0:
            lead_end = match.start()
            out.house(value)
        else:
            _assign(out, field, value, is_last=False)
        if kind == "break":
            field = None
            after_break = True
        elif kind == "bangkok":
            out.name("province", _BANGKOK)
            field = "bangkok"
        else:
            field = kind
        value_start = match.end()
    value = text[value_start:end]
    if lead_end < 0:
        out.house(value)
    else:
        _assign(out, field, value, is_last=after_break)
    return out.build()


def _column(value: str | None, level: str) -> str | None:
    if value is None:
        return None
    value = _prepare(value)
    match = _COLUMN_PREFIX[level].match(value)
    if match is not None and match.end() < len(value):
        value = value[match.end() :]
    value = _COLUMN_SUFFIX.sub("", value)
    return _clean_name(value) or None


def parse_fields(
    house_no: str | None = None,
    moo: str | int | None = None,
    subdistrict: str | None = None,
    district: str | None = None,
    province: str | None = None,
    postcode: str | None = None,
) -> ParsedAddress:
    """Cleans an address that a file already splits into columns.

    Level words are removed ("ต.ในเมือง" -> "ในเมือง", "หมู่ที่ ๔" -> 4), Thai digits
    and invisible characters fixed, Bangkok's short forms written out. A value that
    cannot be read (a หมู่ without a number, a postcode without five digits) is kept
    in ``unparsed``.

    Example:
        >>> parse_fields(moo="ม.๔", subdistrict="ต.ในเมือง").moo
        4
    """
    unparsed: list[str] = []
    house = _column(house_no, "house")
    moo_number: int | None = None
    if isinstance(moo, int):
        moo_number = moo
    elif moo is not None:
        text = _prepare(moo)
        match = _COLUMN_PREFIX["moo"].match(text)
        rest = text[match.end() :] if match is not None else text
        number = _LEADING_INT.match(rest)
        if number is not None and not rest[number.end() :].strip(_STRIP):
            moo_number = int(number.group(1))
        elif text.strip(_STRIP):
            unparsed.append(text.strip(_STRIP))
    province_name = _column(province, "province")
    if province_name is not None and province_name.lower().rstrip(".") in _BANGKOK_NAMES:
        province_name = _BANGKOK
    code: str | None = None
    if postcode is not None:
        found = _FIVE_DIGITS.search(_prepare(postcode))
        if found is not None:
            code = found.group(0)
        elif postcode.strip(_STRIP):
            unparsed.append(postcode.strip(_STRIP))
    return ParsedAddress(
        house_no=house,
        moo=moo_number,
        subdistrict=_column(subdistrict, "subdistrict"),
        district=_column(district, "district"),
        province=province_name,
        postcode=code,
        unparsed=tuple(unparsed),
    )
