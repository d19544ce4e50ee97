"""One comparison form for the names of Thai provinces, districts and tambons.

``normalise_place_name`` turns what people write ("ต. บ้านฝาง", "อ.เมือง", "จ.กทม.",
"Amphoe Muang Khonkaen", "Tambon Nong Ruea") into a key: two spellings of the same
place give the same key, so a lookup is one dictionary hit. The key is for
comparing, never for display.

The rules, in the order they are applied:

1. Unicode NFKC, then the invisible characters (zero-width space and joiners, BOM,
   soft hyphen, direction marks) are dropped.
2. Thai typing slips that look identical on screen are folded: sara am typed as
   nikhahit + sara aa (``ํา`` -> ``ำ``, also with the tone mark typed between),
   two sara e typed for sara ae (``เเ`` -> ``แ``), a tone mark typed before the
   vowel above it, and a mark typed twice.
3. Lower case; a leading word for the level is removed once: จังหวัด, จ., อำเภอ, อ.,
   กิ่งอำเภอ, เขต, ตำบล, ต., แขวง; Changwat, Amphoe (Amphur, Amphor), King Amphoe,
   Khet, Tambon (Tambol), Khwaeng (Kwaeng); and a trailing Province, District or
   Subdistrict. The Thai short forms need their dot, because อ, ต and จ also begin
   names (อ่างทอง, ตลาด, จันทบุรี).
4. English words: Mueang's other spellings (Mueng, Meung, Muaeng) -> ``mueang``, and
   Nakorn/Nakhorn/Nakon -> ``nakhon``.
5. Spaces, dots, hyphens, apostrophes, commas, brackets and ``ฯ`` are removed, so
   "Khon Kaen", "Khonkaen" and "Khon-Kaen" are one key. Then ``eua`` -> ``uea`` and
   ``eung`` -> ``ueng`` (Neua, Meuang, Beung): no RTGS name contains either, so no
   official name changes.
6. Whole-name aliases: กทม, กรุงเทพ(ฯ), Krung Thep, BKK -> กรุงเทพมหานคร; อยุธยา,
   Ayutthaya, Ayudhya -> พระนครศรีอยุธยา; โคราช, Korat -> นครราชสีมา.

"Muang" is the RTGS spelling of ม่วง (mango), a word in dozens of real names
(หนองม่วง, Nong Muang), so it is read as เมือง only as the first word of a district
name, where people write "Amphoe Muang" for the capital district.

What is deliberately not folded: aspirated and plain consonants (Phak/Pak, Thung/
Tung), vowel length, doubled letters and Thai letters that sound alike (ศ ษ ส,
ณ น). Each of those separates real places; misspellings of that kind are left to
fuzzy matching in ``geo.gazetteer``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final, Literal

Level = Literal["province", "district", "subdistrict"]
LEVELS: Final[tuple[Level, ...]] = ("province", "district", "subdistrict")

# Thai digits (๐-๙) as ASCII: codes, IDs, dates and postcodes are often typed with them.
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")

# Thai combining marks: vowels above and below, tone marks, and the other signs.
_ABOVE_VOWELS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e47"
_TONES = "\u0e48\u0e49\u0e4a\u0e4b"
_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
# NFKC decomposes sara am into nikhahit + sara aa; a tone typed between the two
# (น ํ ้ า) is where it belongs before sara am (น ้ ำ).
_SARA_AM = re.compile(f"\u0e4d([{_TONES}]?)\u0e32")
_TONE_BEFORE_VOWEL = re.compile(f"([{_TONES}])([{_ABOVE_VOWELS}])")
_DOUBLED_MARK = re.compile(f"([{_MARKS}])\\1+")

_SEPARATORS = re.compile(r"[\s.\-'’‘`,_()\[\]ฯ]+")

_THAI_PREFIXES: Final[dict[Level, tuple[str, ...]]] = {
    "province": ("จังหวัด", "จ."),
    "district": ("กิ่งอำเภอ", "กิ่ง อ.", "กิ่งอ.", "อำเภอ", "อ.", "เขต"),
    "subdistrict": ("ตำบล", "ต.", "แขวง"),
}
_ENGLISH_PREFIXES: Final[dict[Level, tuple[str, ...]]] = {
    "province": ("changwat",),
    "district": ("king amphoe", "amphoe", "amphur", "amphor", "khet"),
    "subdistrict": ("tambon", "tambol", "khwaeng", "kwaeng"),
}
_ENGLISH_SUFFIXES: Final[dict[Level, tuple[str, ...]]] = {
    "province": ("province",),
    "district": ("district",),
    "subdistrict": ("subdistrict", "sub-district", "sub district"),
}

# Only these two spellings: a bare "eu" also appears where words meet, as in
# "Mae Ukho" (maeukho), and folding it there would depend on the spacing.
_EU_FOLDS: Final[dict[str, str]] = {"eua": "uea", "eung": "ueng"}
_EU_VOWELS = re.compile("eua|eung")

_WORD_VARIANTS: Final[dict[str, str]] = {
    "meung": "mueang",
    "mueng": "mueang",
    "muaeng": "mueang",
    "nakorn": "nakhon",
    "nakhorn": "nakhon",
    "nakon": "nakhon",
}

_BANGKOK = "กรุงเทพมหานคร"
_ALIASES: Final[dict[str, str]] = {
    "กทม": _BANGKOK,
    "กรุงเทพ": _BANGKOK,
    "krungthep": _BANGKOK,
    "krungthepmahanakhon": _BANGKOK,
    "bkk": _BANGKOK,
    "อยุธยา": "พระนครศรีอยุธยา",
    "ayutthaya": "พระนครศรีอยุธยา",
    "ayudhya": "พระนครศรีอยุธยา",
    "ayuthaya": "พระนครศรีอยุธยา",
    "โคราช": "นครราชสีมา",
    "korat": "นครราชสีมา",
    "khorat": "นครราชสีมา",
}


_Words = tuple[str, ...]


def _ordered_prefixes(level: Level | None) -> tuple[_Words, _Words, _Words]:
    levels = LEVELS if level is None else (level,)
    # Longest first, so กิ่งอำเภอ is removed whole rather than leaving its อำเภอ.
    thai = sorted((p for lv in levels for p in _THAI_PREFIXES[lv]), key=len, reverse=True)
    english = sorted((p for lv in levels for p in _ENGLISH_PREFIXES[lv]), key=len, reverse=True)
    suffixes = sorted((p for lv in levels for p in _ENGLISH_SUFFIXES[lv]), key=len, reverse=True)
    return tuple(thai), tuple(english), tuple(suffixes)


_PREFIXES_BY_LEVEL: Final = {lv: _ordered_prefixes(lv) for lv in (*LEVELS, None)}


def fix_thai_typing(text: str) -> str:
    """Folds Thai typing slips that render the same as the correct spelling.

    Example:
        >>> fix_thai_typing("น\u0e4d\u0e49\u0e32") == "น\u0e49\u0e33"
        True
    """
    text = _SARA_AM.sub("\\1\u0e33", text)
    text = text.replace("เเ", "แ")
    text = _TONE_BEFORE_VOWEL.sub("\\2\\1", text)
    return _DOUBLED_MARK.sub("\\1", text)


def _strip_level_words(text: str, level: Level | None) -> str:
    thai, english, suffixes = _PREFIXES_BY_LEVEL[level]
    for prefix in thai:
        if text.startswith(prefix):
            text = text[len(prefix) :].lstrip(" .")
            break
    else:
        for prefix in english:
            # An English level word is a whole word: "Khet" must not cut "Khetkaeo".
            rest = text[len(prefix) :]
            if text.startswith(prefix) and rest[:1] in ("", " ", ".", "-"):
                text = rest.lstrip(" .-")
                break
    for suffix in suffixes:
        head = text[: -len(suffix)]
        if text.endswith(suffix) and head[-1:] in (" ", "-") and head.strip(" -"):
            return head.rstrip(" -")
    return text


def _fold_english_words(text: str, level: Level | None) -> str:
    words = [_WORD_VARIANTS.get(w, w) for w in text.split()]
    # Only at the start of a district name: elsewhere "muang" is ม่วง (see module doc).
    if level in ("district", None) and len(words) > 1 and words[0] == "muang":
        words[0] = "mueang"
    if level == "district" and words == ["muang"]:
        words[0] = "mueang"
    return " ".join(words)


def normalise_place_name(text: str, level: Level | None = None) -> str:
    """Returns the comparison key of a province, district or tambon name.

    Args:
        text: A Thai or English name as written, with or without its level word.
        level: The level the name is known to be. With a level only that level's
            words are removed (a tambon is named จ.ป.ร., and "จ." is the province
            short form) and "Muang" alone is read as the capital district; without
            one the words of every level are removed.

    Returns:
        The key: lower case, without separators or level words, with the variants
        listed in the module docstring folded. Empty if nothing is left.

    Example:
        >>> normalise_place_name("อ. เมือง ขอนแก่น", "district")
        'เมืองขอนแก่น'
        >>> normalise_place_name("Amphoe Muang Khonkaen", "district")
        'mueangkhonkaen'
        >>> normalise_place_name("จ.กทม.")
        'กรุงเทพมหานคร'
    """
    return _normalise(text, level)


# Addresses repeat the same few names, so most calls are a cache hit.
@lru_cache(maxsize=65536)
def _normalise(text: str, level: Level | None) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = fix_thai_typing(text)
    text = " ".join(text.casefold().split())
    text = _strip_level_words(text, level)
    text = _fold_english_words(text, level)
    key = _SEPARATORS.sub("", text)
    key = _EU_VOWELS.sub(lambda m: _EU_FOLDS[m.group(0)], key)
    if level in ("province", None):
        key = _ALIASES.get(key, key)
    return key
