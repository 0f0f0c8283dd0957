"""A fast, hand-written Shidian evaluator: the yardstick issue 5 measures the engines against.

It makes the same core decisions as the pack for a plain JSON fact — vocabulary checks,
route matching, working-day due dates and statuses, the responsible tier and the closure
chain's closing tier — with everything precomputed, and nothing else: no explanations, no
warnings, no recurring duties, no output objects beyond a small dict.
"""

from __future__ import annotations

from datetime import date

import holidays

SOURCES = {"national", "provincial", "municipal", "democratic_supervision", "sector_screening",
           "extrapolated_screening", "petition", "media", "routine_inspection",
           "special_inspection", "daily_inspection"}
CATEGORIES = {"general", "key"}
ROUTES = {("national", "key"): "A", ("provincial", "key"): "A",
          ("national", "general"): "B", ("provincial", "general"): "B",
          ("municipal", "key"): "B", ("municipal", "general"): "C"}
CHAIN_TIER = {"national": "provincial", "provincial": "provincial",
              "democratic_supervision": "provincial"}
WINDOWS = {"A": (("a_submit_county_plan", "upper_plan_issued", 5, "plan_submitted"),),
           "B": (("b_submit_township_plan", "transferred", 10, "plan_submitted"),
                 ("b_submit_county_plan", "transferred", 15, "county_plan_submitted")),
           "C": (("c_submit_township_plan", "transferred", 10, "plan_submitted"),
                 ("c_submit_county_plan", "transferred", 15, "county_plan_submitted"))}

_BASE = date(2000, 1, 1).toordinal()
_china = holidays.country_holidays("CN", years=range(2000, 2061))
_cumulative: list[int] = []
_workdays: list[int] = []
for _i in range(date(2060, 12, 31).toordinal() - _BASE + 1):
    _d = date.fromordinal(_BASE + _i)
    if _china.is_working_day(_d):
        _workdays.append(_BASE + _i)
    _cumulative.append(len(_workdays))


def _add_working_days(day: date, n: int) -> date:
    return date.fromordinal(_workdays[_cumulative[day.toordinal() - _BASE] + n - 1])


def evaluate(fact: dict, as_of: date) -> dict:
    source, category = fact["source"], fact["category"]
    if source not in SOURCES or category not in CATEGORIES:
        raise ValueError(f"bad source or category: {source}, {category}")
    events = {k: date.fromisoformat(v) for k, v in fact.get("events", {}).items()}
    route = ROUTES.get((source, category))
    actions = []
    for action_id, trigger, n, done_event in WINDOWS.get(route, ()):
        start = events.get(trigger)
        if start is None or start > as_of:
            continue
        due = _add_working_days(start, n)
        done = events.get(done_event)
        if done is not None and done <= as_of:
            status = "done" if done <= due else "done_late"
        else:
            status = "overdue" if as_of > due else "pending"
        actions.append((action_id, due, status))
    tier = "county" if route == "A" else "township" if route else None
    if (source, category) in (("provincial", "general"), ("municipal", "key")):
        closing = "municipal"
    elif source == "provincial" and category == "key":
        closing = "provincial"
    else:
        closing = CHAIN_TIER.get(source, "county")
    return {"id": fact.get("id"), "responsible_tier": tier, "closing_tier": closing,
            "actions": actions}
