"""The sandbox clock: real time, frozen at an instant, or real time shifted by an offset.

The API documentation renders every instant in the account's zone (Europe/Paris) with its offset, and
slots in their calendar's zone; both conversions live here so that daylight saving time is handled in
exactly one place.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
UTC = UTC


# The sandbox clock stays within these instants (1971-01-01 .. 9000-12-31 UTC): every date the dataset derives
# from it (a month either side, slots published 45 days ahead) must still be a representable date.
EARLIEST = 31536000.0
LATEST = 221845392000.0


def check_instant(epoch: float) -> float:
    """``epoch`` if the sandbox clock may show it, else ValueError saying the range."""
    if not EARLIEST <= epoch <= LATEST:  # NaN fails this too
        raise ValueError("the sandbox clock must stay between 1971-01-01 and 9000-12-31")
    return epoch


_INSTANT_EXAMPLE = "an ISO-8601 date-time such as 2025-06-07T15:30:00+02:00 (without an offset: Paris time)"


def parse_instant(value: object) -> float | None:
    """An ISO-8601 instant (or epoch seconds) as epoch seconds; 'now'/'real'/'' means the real clock (None).

    The one rule for every time a user types (``--now``, ``T4B_NOW``, the control API's ``at``, the plugin's
    ``tap4book_now``): without an offset it is Europe/Paris wall time (the sandbox's zone, and what the
    console's input says), a bare date is its midnight in Paris (docs/interpretation.md#times-without-an-offset).
    ValueError, saying what is accepted, for anything else or out of range."""
    if value is None:
        return None
    if isinstance(value, float | int) and not isinstance(value, bool):
        try:
            return check_instant(float(value))
        except OverflowError:
            raise ValueError("the sandbox clock must stay between 1971-01-01 and 9000-12-31") from None
    if not isinstance(value, str):
        raise ValueError(f"expected {_INSTANT_EXAMPLE}, got {value!r}")
    text = value.strip()
    if text in ("", "now", "real"):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        epoch = moment.timestamp() if moment.tzinfo is not None else paris_wall_to_epoch(moment)
    except (ValueError, OverflowError):
        raise ValueError(f"expected {_INSTANT_EXAMPLE}, got {text!r}") from None
    return check_instant(epoch)


def paris_wall_to_epoch(wall: datetime) -> float:
    """A wall-clock time without offset, read in Europe/Paris. Where daylight saving time makes it ambiguous,
    the later of its two readings: in the autumn overlap the second 02:30 (+01:00); in the spring gap, a time
    that does not exist is moved forward by the gap (02:30 -> 03:30+02:00). The console computes the same."""
    first = wall.replace(tzinfo=PARIS, fold=0).timestamp()
    second = wall.replace(tzinfo=PARIS, fold=1).timestamp()
    return max(first, second)


@dataclass(frozen=True)
class ClockState:
    """``frozen_at`` (epoch seconds) wins over ``offset``; both unset is the real clock."""

    frozen_at: float | None = None
    offset: float = 0.0

    def now(self) -> float:
        return self.frozen_at if self.frozen_at is not None else time.time() + self.offset

    @property
    def mode(self) -> str:
        if self.frozen_at is not None:
            return "frozen"
        return "shifted" if self.offset else "real"

    def advanced(self, seconds: float) -> ClockState:
        if self.frozen_at is not None:
            return ClockState(frozen_at=self.frozen_at + seconds)
        return ClockState(offset=self.offset + seconds)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(epoch: float, tz: str = "Europe/Paris") -> datetime:
    return datetime.fromtimestamp(epoch, zone(tz))


_OFFSETS: dict[tuple[str, int], int] = {}


def utc_offset(epoch: float, tz: str = "Europe/Paris") -> int:
    """The zone's offset in seconds at that instant.

    Cached per UTC hour: the zones we serve change offset only on the hour, and this runs for every
    timestamp of every response, where zoneinfo's conversion would dominate the cost.
    """
    key = (tz, int(epoch) // 3600)
    offset = _OFFSETS.get(key)
    if offset is None:
        if len(_OFFSETS) > 200_000:
            _OFFSETS.clear()
        delta = datetime.fromtimestamp(key[1] * 3600, zone(tz)).utcoffset()
        offset = _OFFSETS[key] = int(delta.total_seconds()) if delta else 0
    return offset


def iso(epoch: float, tz: str = "Europe/Paris") -> str:
    """ISO-8601 with the zone's offset at that instant, to the second: 2025-06-07T15:30:00+02:00."""
    offset = utc_offset(epoch, tz)
    t = time.gmtime(int(epoch) + offset)
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        f"{sign}{hours:02d}:{minutes:02d}"
    )


def local_date(epoch: float, tz: str = "Europe/Paris") -> date:
    return to_local(epoch, tz).date()


def local_to_epoch(day: date, hhmm: tuple[int, int], tz: str = "Europe/Paris") -> int:
    """The instant of a wall-clock time in a zone (a time skipped by DST moves forward, as zoneinfo does)."""
    moment = datetime(day.year, day.month, day.day, hhmm[0], hhmm[1], tzinfo=zone(tz))
    return int(moment.astimezone(UTC).timestamp())


def day_bounds(day: date, tz: str = "Europe/Paris") -> tuple[int, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=zone(tz))
    end = start + timedelta(days=1)
    return int(start.timestamp()), int(end.timestamp())


_DURATION = re.compile(r"(?P<value>-?\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ISO_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def parse_duration(value: object) -> float:
    """Seconds from a number, '90s', '2h30m', '1d', or an ISO-8601 duration ('P1DT2H'); raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("a duration cannot be a boolean")
    if isinstance(value, int | float):
        return _finite(value)
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r} (use seconds, '2h30m', '1d' or 'P1DT2H')")
    text = value.strip()
    iso_match = _ISO_DURATION.match(text)
    if iso_match and text.upper() not in ("P", "PT"):
        parts = {k: float(v) for k, v in iso_match.groupdict().items() if v and k != "sign"}
        seconds = parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
        return _finite(-seconds if iso_match.group("sign") else seconds)
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if text[pos : match.start()].strip():
            break
        total += float(match.group("value")) * _UNIT_SECONDS[match.group("unit").lower()]
        pos = match.end()
    else:
        if pos and not text[pos:].strip():
            return _finite(total)
    try:
        return _finite(float(text))
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use seconds, '2h30m', '1d' or 'P1DT2H')") from None


def _finite(value: float) -> float:
    try:
        seconds = float(value)
    except OverflowError:
        raise ValueError("the duration is too large") from None
    if seconds != seconds or abs(seconds) > LATEST:
        raise ValueError("the duration is too large")
    return seconds
