"""A plain, hand-written reading of the Shidian plan (seed 002), for differential testing.

Written straight from the text and the pack's recorded assumptions, with no ecorules code:
routes A-C with their working-day windows (counted with holidays' own get_nth_working_day),
the responsible tier, the closure chain (specific over general), and the transfers flags set
off. Both engines must agree with it.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays

NATIONAL_OR_PROVINCIAL = {"national", "provincial"}
COUNTY_ORIGIN = {
    "sector_screening",
    "extrapolated_screening",
    "petition",
    "media",
    "routine_inspection",
    "special_inspection",
    "daily_inspection",
}


@cache
def _china(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=range(year - 1, year + 3))


def working_days_after(start: date, n: int) -> date:
    """二(一): "N个工作日内" — the N-th working day after the event (conventions 1)."""
    result: date = _china(start.year).get_nth_working_day(start, n)
    return result


def route(source: str, category: str) -> str | None:
    """二(一): which plan route applies."""
    if source in NATIONAL_OR_PROVINCIAL and category == "key":
        return "A"
    if (source in NATIONAL_OR_PROVINCIAL and category == "general") or (
        source == "municipal" and category == "key"
    ):
        return "B"
    if source == "municipal" and category == "general":
        return "C"
    return None


def chain(source: str, category: str) -> str:
    """二(三), the class-specific chains winning over the general one (assumption
    a_specific_chains); county-found problems close by C4 (a_county_origin_chain)."""
    if source == "provincial" and category == "key":
        return "c2_provincial_key"
    if (source == "provincial" and category == "general") or (
        source == "municipal" and category == "key"
    ):
        return "c3_provincial_general_municipal_key"
    if source in {"national", "democratic_supervision"}:
        return "c1_national_provincial"
    if source == "municipal" or source in COUNTY_ORIGIN:
        return "c4_municipal_general"
    raise AssertionError(source)


def responsible_tier(source: str, category: str) -> str | None:
    """The lead unit (county) for route A, the county sector department for sector screening
    (一(一)); every other problem goes to its territorial owner, the township
    (a_responsible_township): routes B and C, the films' problems and 举一反三 (一(四), 一(二)),
    verified reports (一(三)), inspection findings (三(一), a_inspection_owner) and democratic
    supervision (二(二), a_democratic_supervision_owner)."""
    r = route(source, category)
    if r == "A" or source == "sector_screening":
        return "county"
    return "township"


def plan_deadlines(source: str, category: str, events: dict[str, date]) -> dict[str, date]:
    """The dated plan obligations and their due dates."""
    r = route(source, category)
    out: dict[str, date] = {}
    if r == "A" and "upper_plan_issued" in events:
        due = working_days_after(events["upper_plan_issued"], 5)
        out["a_submit_county_plan"] = out["a_county_consent"] = due
    if r in ("B", "C") and "transferred" in events:
        prefix = r.lower()
        out[f"{prefix}_submit_township_plan"] = working_days_after(events["transferred"], 10)
        out[f"{prefix}_submit_county_plan"] = working_days_after(events["transferred"], 15)
    return out


def status(due: date, done: date | None, as_of: date) -> str:
    """Overdue from the day after the due date; done on or before it, else done late."""
    if done is None:
        return "overdue" if as_of > due else "pending"
    return "done" if done <= due else "done_late"


COMPLETION = {
    "a_submit_county_plan": "plan_submitted",
    "a_county_consent": "county_consented",
    "b_submit_township_plan": "plan_submitted",
    "b_submit_county_plan": "county_plan_submitted",
    "c_submit_township_plan": "plan_submitted",
    "c_submit_county_plan": "county_plan_submitted",
}


def transfers(flags: set[str]) -> set[str]:
    """三(二), 三(三): the transfer duties each flag sets off (their first steps)."""
    out = set()
    if "suspected_crime" in flags:
        out |= {"transfer_case_to_police", "copy_procuratorate"}
    if "public_interest" in flags:
        out.add("transfer_public_interest_clue")
    if flags & {"perfunctory", "fake_rectification"}:
        out |= {"transfer_to_discipline", "transfer_to_organisation"}
    if "environmental_violation" in flags:
        out.add("impose_penalty")
    return out
