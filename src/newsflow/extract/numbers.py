"""Number words and the numbers rules share."""

from __future__ import annotations

import re

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
WORDS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
WORDS.update(_TENS)
for _t, _v in _TENS.items():
    for _i in range(1, 10):
        WORDS[f"{_t}-{_UNITS[_i]}"] = _v + _i
        WORDS[f"{_t} {_UNITS[_i]}"] = _v + _i

# Built from parts (tens, then an optional unit) rather than as one long list of
# compounds: a short alternation keeps the many patterns that use INT fast.
_TENS_ALT = "|".join(_TENS)
_UNIT_ALT = "|".join(sorted(_UNITS[1:], key=len, reverse=True))
_WORD_ALT = rf"(?:(?:{_TENS_ALT})(?:[- ](?:{'|'.join(_UNITS[1:10])}))?|{_UNIT_ALT})"
# An integer as written in abstracts: 1,234 / 1 234 / 12 / twenty-two / one hundred and five.
INT = rf"(?:\d{{1,3}}(?:[,\u2009\u202f ]\d{{3}})+(?!\d)|\d+(?![.,]\d)|(?:{_WORD_ALT})(?: hundred(?:(?: and)? (?:{_WORD_ALT}))?)?)"
NUM = r"\d+(?:\.\d+)?"
DASH = r"\s*(?:-|–|—|to)\s*"


def to_int(text: str) -> int | None:
    t = text.strip().lower()
    digits = re.sub(r"[,\u2009\u202f ]", "", t)
    if digits.isdigit():
        return int(digits)
    m = re.fullmatch(rf"({_WORD_ALT}) hundred(?:(?: and)? ({_WORD_ALT}))?", t)
    if m:
        return WORDS[m.group(1)] * 100 + (WORDS[m.group(2)] if m.group(2) else 0)
    return WORDS.get(t.replace("\u2010", "-").replace(" ", "-"))


def to_num(text: str) -> float | int:
    v = float(text)
    return int(v) if v.is_integer() else v
