"""Poll slots: a fixed grid per source, so every daemon agrees on when a source is due.

A source polled ``every`` seconds owns the slots ``anchor + k * every``.  The anchor is
derived from the source name, which spreads sources over the interval instead of
polling them all at once, and needs no coordination between daemons: each daemon's
timer fires once inside every slot, and the first to claim the slot wins it.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib

EPOCH = dt.datetime(2000, 1, 1)


def anchor(name: str, every: float) -> dt.datetime:
    """The grid origin of one source: the epoch plus a name-derived offset below ``every``."""
    offset_ms = zlib.crc32(name.encode()) % max(1, int(every * 1000))
    return EPOCH + dt.timedelta(milliseconds=offset_ms)


def slot_start(name: str, every: float, at: dt.datetime) -> dt.datetime:
    """The start of the slot containing ``at``."""
    a = anchor(name, every)
    k = math.floor((at - a).total_seconds() / every)
    return a + dt.timedelta(seconds=k * every)


def slot_after(name: str, every: float, at: dt.datetime) -> dt.datetime:
    """The start of the first slot strictly after the one containing ``at``."""
    return slot_start(name, every, at) + dt.timedelta(seconds=every)
