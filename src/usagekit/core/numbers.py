"""Exact decimal arithmetic for metered values.

Values are kept as integer nano-units (9 decimal places), so sums of values such
as 0.1 are exact, unlike binary floats. Storage splits a value into two int64
parts (`split`), and a stored sum into three (`split_sum`), so that no sum of
any size overflows 64 bits: see store.rollups.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation, localcontext

NANO = 1_000_000_000
LIMB = 10**18  # whole units per carry of a stored sum (split_sum)
_MAX_UNITS = 2**63 - 1


# What a metered value reads as: Decimal only where a float would not be exact.
Number = int | float | Decimal


class NotANumber(ValueError):
    """A value that cannot be metered (not a number, or out of range)."""


def to_nanos(value: object) -> int:
    """Convert a JSON number (or numeric string) to nano-units; raise NotANumber if not numeric."""
    if isinstance(value, bool):
        raise NotANumber("a boolean is not a number")
    if isinstance(value, int):
        nanos = value * NANO
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise NotANumber("not a finite number")
        if value.is_integer() and abs(value) < 2**53:
            nanos = int(value) * NANO
        else:
            nanos = _decimal_to_nanos(Decimal(repr(value)))
    elif isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            raise NotANumber(f"{value[:40]!r} is not a number") from None
        if not dec.is_finite():
            raise NotANumber("not a finite number")
        nanos = _decimal_to_nanos(dec)
    else:
        raise NotANumber(f"a {type(value).__name__} is not a number")
    if abs(nanos) // NANO > _MAX_UNITS:
        raise NotANumber("number out of range")
    return nanos


def _decimal_to_nanos(dec: Decimal) -> int:
    """Rounded to whole nanos (half to even), exactly: the default context keeps 28 digits."""
    if dec.adjusted() > 30:  # past any value kept; never build an int of a million digits
        raise NotANumber("number out of range")
    if dec.adjusted() < -12:
        return 0
    with localcontext(prec=60):
        return int((dec * NANO).to_integral_value())


def split(nanos: int) -> tuple[int, int]:
    """Split nano-units into (units, nanos) with the same sign, both fitting int64."""
    sign = -1 if nanos < 0 else 1
    units, rest = divmod(abs(nanos), NANO)
    return sign * units, sign * rest


def join(units: int, nanos: int) -> int:
    """Inverse of split, also for sums of split parts."""
    return units * NANO + nanos


def split_sum(nanos: int) -> tuple[int, int, int]:
    """A sum as (carry, units, nanos) of one sign: carry * LIMB + units whole units.

    |units| < LIMB and |nanos| < NANO, so two stored parts plus a carry of one
    still fit 64 bits; the carry counts LIMBs (it would take 10**18 events of
    the largest value to fill it).
    """
    sign = -1 if nanos < 0 else 1
    whole, rest = divmod(abs(nanos), NANO)
    carry, units = divmod(whole, LIMB)
    return sign * carry, sign * units, sign * rest


def join_sum(carry: int, units: int, nanos: int) -> int:
    """Inverse of split_sum, also for parts of mixed signs and sums of parts."""
    return (carry * LIMB + units) * NANO + nanos


def to_number(nanos: int) -> Number:
    """Nano-units as the JSON number a person expects: an int when whole, else a float
    when it shows the exact value, else a Decimal (which the JSON replies write out)."""
    units, rest = divmod(nanos, NANO)
    if rest == 0:
        return units
    sign = "-" if nanos < 0 else ""
    units, rest = divmod(abs(nanos), NANO)
    return _exact(Decimal(f"{sign}{units}.{rest:09d}".rstrip("0")))  # from text: exact


def plain(value: float | int) -> int | float:
    """A stored float (min, max, latest) as an int when it is whole."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def approx(value: Number) -> int | float:
    """A value for a vendor format that takes only JSON's usual numbers."""
    return float(value) if isinstance(value, Decimal) else value


def ratio(nanos: int, count: int) -> int | float:
    """nanos / count (an average) as a number, exact when whole."""
    whole, rest = divmod(nanos, count * NANO)
    if rest == 0:
        return whole
    return float(Decimal(nanos) / (count * NANO))


def _exact(dec: Decimal) -> float | Decimal:
    as_float = float(dec)
    return as_float if Decimal(repr(as_float)) == dec else dec
