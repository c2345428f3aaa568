"""Guards applied to untrusted XML before any parser sees it.

Entity declarations are the root of every XML bomb (billion laughs, quadratic
blowup, external entities), and no feed or E-utilities response needs them, so
the whole DOCTYPE goes: with it, no entity can be defined, and an undefined
reference is at worst left as literal text.
"""

from __future__ import annotations

import codecs
import re

# A DOCTYPE with an optional internal subset.  Quoted strings inside the subset are
# skipped as units so a "]>" inside an entity value cannot end the match early.
_DOCTYPE = re.compile(
    rb"""<!DOCTYPE(?:[^\[>"']|"[^"]*"|'[^']*')*(?:\[(?:[^\]"']|"[^"]*"|'[^']*')*\]\s*)?>""",
    re.IGNORECASE,
)
# Declarations left outside a DOCTYPE (or in one the pattern above could not close).
_DECL = re.compile(rb"""<!(?:ENTITY|ELEMENT|ATTLIST|NOTATION)(?:[^>"']|"[^"]*"|'[^']*')*>?""",
                   re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_PREFIXES = (
    (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"),
)


def _wide_encoding(data: bytes) -> tuple[str, int] | None:
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name, len(bom)
    for prefix, name in _WIDE_PREFIXES:
        if data.startswith(prefix):
            return name, 0
    return None


def to_ascii_compatible(data: bytes) -> tuple[bytes, bool]:
    """Re-encode UTF-16/32 bodies as UTF-8 so byte-level guards can see the markup.

    Returns (data, changed).  A body that does not decode is returned as-is.
    """
    wide = _wide_encoding(data)
    if wide is None:
        return data, False
    name, skip = wide
    try:
        text = data[skip:].decode(name)
    except UnicodeDecodeError:
        return data, False
    out = text.encode("utf-8")
    out = _XML_DECL_ENCODING.sub(rb"\1\2utf-8\2", out, count=1)
    return out, True


def strip_doctype(data: bytes) -> tuple[bytes, int]:
    """Remove every DOCTYPE and markup declaration; returns (data, how many were removed)."""
    data, n1 = _DOCTYPE.subn(b"", data)
    data, n2 = _DECL.subn(b"", data)
    return data, n1 + n2


def has_declarations(data: bytes) -> bool:
    return re.search(rb"<!(?:DOCTYPE|ENTITY)", data, re.IGNORECASE) is not None
