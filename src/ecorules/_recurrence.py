"""What a pack's recurrence rule may say: due dates are days, so a rule finer than a day
is refused before ``dateutil`` is asked to lay it out.

``rrulestr`` accepts ``FREQ=SECONDLY``, ``INTERVAL=0`` and ``BYHOUR``/``BYMINUTE``/
``BYSECOND`` lists; laid out over the calendar's sixty years they never finish (INTERVAL=0
loops forever) or take gigabytes. With at most one occurrence a day, a rule has at most
one occurrence per calendar day, about 22,000 in all.
"""

from __future__ import annotations

_FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
_FINER_THAN_A_DAY = ("BYHOUR", "BYMINUTE", "BYSECOND")
_SETS = ("RDATE", "EXDATE", "EXRULE", "DTSTART")


def check_rrule(rule: str) -> None:
    """Raise ValueError, saying why, when ``rule`` is not a daily-or-coarser recurrence."""
    text = rule.strip().upper()
    if text.startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if any(part in text for part in _SETS) or "\n" in text:
        raise ValueError("one RRULE line is expected (no DTSTART, RDATE, EXDATE or EXRULE)")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, _, value = part.partition("=")
        parts[name.strip()] = value.strip()
    frequency = parts.get("FREQ")
    if frequency not in _FREQUENCIES:
        raise ValueError(
            f"FREQ must be one of {', '.join(_FREQUENCIES)}: due dates are days"
            if frequency
            else "FREQ is required"
        )
    finer = [name for name in _FINER_THAN_A_DAY if name in parts]
    if finer:
        raise ValueError(f"{', '.join(finer)} is finer than a day: due dates are days")
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= 10_000:
        raise ValueError(f"INTERVAL must be a whole number from 1 to 10000, not `{interval}`")
