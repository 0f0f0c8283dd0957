"""A plain, hand-written Shidian evaluator: the yardstick the engines are measured against.

It returns the same complete ``Decision`` as ``ecorules.load_pack("shidian").evaluate`` —
every action with its status, due date, actor, tier, recipient and basis; the closure chain's
steps; the recurring duties; every warning (data-quality ones included); the responsible
body; the calendar identity, the pack revision and the decision id — and tests/
test_yardstick.py holds it equal to the engine on every case of the pack, on the
benchmark's whole workload and on generated facts. So a speed ratio against it compares
like with like: the engine is asked to do exactly this work, no more.

"Hand-written" means the Shidian plan (policies/shidian/pack.yaml; 施甸县 seed 002) is
coded straight as Python: ifs on the source, category and flags, its obligations and
chains written out, dates by the working-day calendar. Nothing reads the pack's rules or
conditions. What it borrows from the library is what a host writing this by hand would
borrow too: the pack's ``WorkingCalendar`` (the working-day arithmetic), the output
dataclasses with the engine's own fast constructors (``new_decision``, ``new_action``: the
yardstick builds its output no slower than the engine does), ``decision_id`` deferred as
the engine defers it (the id must be the library's), and constant texts read once
at import — titles, event names, role tiers, the horizon warning's text, the calendar
identity and revision. Validation is its own and cheaper than the engine's: it refuses
what the engine refuses (with a ``FactError``), naming the first field the engine names
for the pack's error cases, without the engine's full list of every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

import ecorules
from ecorules import Action, ChainStepState, Decision, Fact, FactError, FactProblem, Notice
from ecorules._decision import Deferred, new_action, new_chain_step, new_decision
from ecorules._notices import horizon_warning
from ecorules._revision import decision_id, decision_seed

PACK = ecorules.load_pack("shidian")

# -- the vocabulary (pack.yaml `vocabulary`) -------------------------------------------------

SOURCES = frozenset(
    {
        "national",
        "provincial",
        "municipal",
        "democratic_supervision",
        "sector_screening",
        "extrapolated_screening",
        "petition",
        "media",
        "routine_inspection",
        "special_inspection",
        "daily_inspection",
    }
)
CATEGORIES = frozenset({"general", "key"})
SECTORS = frozenset(
    {
        "sewage_waste",
        "leachate",
        "chemical",
        "tailings",
        "mining",
        "agricultural_nonpoint",
        "nature_reserve",
        "fishing_ban",
        "forest_land",
        "other",
    }
)
FLAGS = frozenset(
    {
        "repeated_exposure",
        "environmental_violation",
        "suspected_crime",
        "public_interest",
        "perfunctory",
        "fake_rectification",
    }
)
EVENTS = frozenset(
    {
        "reported",
        "table_approved",
        "verified",
        "transferred",
        "transfer_filed",
        "upper_plan_issued",
        "county_consented",
        "plan_submitted",
        "county_plan_submitted",
        "plan_issued",
        "rectified",
        "self_checked",
        "accepted_by_county",
        "accepted_by_municipal",
        "signed_off",
        "accepted_by_provincial",
        "closed",
        "closure_filed",
        "lookback_done",
        "cross_checked",
        "penalised",
        "case_transferred",
        "procuratorate_copied",
        "prosecution_referred",
        "indicted",
        "criminal_liability_declined",
        "returned_for_penalty",
        "public_interest_clue_transferred",
        "discipline_clue_transferred",
        "organisation_clue_transferred",
    }
)
FIELDS = frozenset({"id", "kind", "source", "category", "sector", "flags", "events", "attrs"})
COUNTY_ORIGIN = frozenset(
    {
        "sector_screening",
        "extrapolated_screening",
        "petition",
        "media",
        "routine_inspection",
        "special_inspection",
        "daily_inspection",
    }
)
INSPECTIONS = frozenset({"routine_inspection", "special_inspection", "daily_inspection"})

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2050, 12, 31)
NO_FLAGS: frozenset[str] = frozenset()
NO_ATTRS: dict[str, Any] = {}
PLAIN = (None, NO_ATTRS)
"""What ``attrs`` may be on the quick path: absent, null or empty (Shidian declares none)."""
"""The dates a fact and as_of may hold (the library's range)."""
PUBLISHED = date(2023, 5, 17)
"""metadata.valid_from: the plan is in force from its publication, with no end (a_in_force)."""

# Which recorded events the plan says come first (each obligation's trigger before what
# completes it; a chain's start, rectified, before each step; closure after every step),
# followed through: a later event dated before one of these is a ledger error to warn about.
COMES_AFTER: dict[str, tuple[str, ...]] = {
    "accepted_by_county": ("rectified",),
    "accepted_by_municipal": ("rectified",),
    "accepted_by_provincial": ("rectified",),
    "closed": (
        "accepted_by_county",
        "accepted_by_municipal",
        "accepted_by_provincial",
        "rectified",
        "self_checked",
        "signed_off",
    ),
    "closure_filed": (
        "accepted_by_county",
        "accepted_by_municipal",
        "accepted_by_provincial",
        "closed",
        "rectified",
        "self_checked",
        "signed_off",
    ),
    "county_consented": (
        "reported",
        "table_approved",
        "transferred",
        "upper_plan_issued",
        "verified",
    ),
    "county_plan_submitted": ("reported", "table_approved", "transferred", "verified"),
    "cross_checked": ("rectified",),
    "indicted": ("case_transferred", "prosecution_referred"),
    "lookback_done": ("rectified",),
    "plan_issued": (
        "county_plan_submitted",
        "plan_submitted",
        "reported",
        "table_approved",
        "transferred",
        "upper_plan_issued",
        "verified",
    ),
    "plan_submitted": (
        "reported",
        "table_approved",
        "transferred",
        "upper_plan_issued",
        "verified",
    ),
    "prosecution_referred": ("case_transferred",),
    "returned_for_penalty": ("criminal_liability_declined",),
    "self_checked": ("rectified",),
    "signed_off": ("rectified",),
    "table_approved": ("reported",),
    "transfer_filed": ("reported", "table_approved", "transferred", "verified"),
    "transferred": ("reported", "table_approved", "verified"),
    "upper_plan_issued": ("reported", "table_approved", "transferred", "verified"),
    "verified": ("reported",),
}

# -- constants read once from the pack: texts, tiers, calendar, identity ---------------------

_model = PACK.model
TITLES: dict[str, str] = {ob.id: ob.title for rule in _model.rules for ob in rule.obligations}
TITLES.update({s.id: s.title for chain in _model.closure_chains for s in chain.steps})
TITLES.update({duty.id: duty.title for duty in _model.recurring})
EVENT_NAMES = {e.id: e.name for e in _model.vocabulary.events}
TIER = {role.id: role.tier for role in _model.roles}
CALENDAR = PACK.calendar
add_working_days = CALENDAR.add_working_days
HORIZON = CALENDAR.horizon
BEYOND_HORIZON = horizon_warning(CALENDAR)
CALENDAR_IDENTITY = PACK.calendar_identity
REVISION = PACK.revision
SEED = decision_seed(REVISION, PACK.notices)
SHANGHAI = ZoneInfo("Asia/Shanghai")
del _model


class Step:
    """One obligation, closure step or duty: what its actions say besides due and status."""

    __slots__ = (
        "actor",
        "basis",
        "by_due",
        "id",
        "kind",
        "pending",
        "recipient",
        "rule",
        "scheduled",
    )

    def __init__(
        self, id: str, rule: str, kind: Any, actor: str, recipient: str | None, basis: str
    ):
        self.id, self.rule, self.kind, self.basis = id, rule, kind, basis
        self.actor, self.recipient = actor, recipient
        # The two states with no date in them, made once: most actions of most facts are these.
        self.scheduled = self.at(None, "scheduled", None)
        self.pending = self.at(None, "pending", None)
        self.by_due: dict[date, Action] = {}

    def on(self, due: date) -> Action:
        """A recurring duty's occurrence: the same few dates recur across a ledger, so each
        action is made once (a dict write is atomic, so threads may share this)."""
        action = self.by_due.get(due)
        if action is None:
            action = self.by_due[due] = self.at(due, "scheduled", None)
        return action

    def at(self, due: date | None, status: Any, done_on: date | None) -> Action:
        return new_action(
            self.id,
            TITLES[self.id],
            self.kind,
            self.rule,
            self.actor,
            TIER[self.actor],
            self.recipient,
            due,
            status,
            self.basis,
            done_on,
            "provision",
        )

    def state(self, done_on: date | None) -> ChainStepState:
        return new_chain_step(
            self.id,
            TITLES[self.id],
            self.actor,
            TIER[self.actor],
            self.recipient,
            self.basis,
            done_on is not None,
            done_on,
        )


def open_ended(step: Step, triggered: date | None, done_on: date | None) -> Action:
    """An obligation with no due date: done when its event is recorded, else waiting for its
    trigger (scheduled) or under way (pending)."""
    if done_on is not None:
        return step.at(None, "done", done_on)
    return step.scheduled if triggered is None else step.pending


def untriggered(step: Step, done_on: date | None) -> Action:
    """A duty a flag sets off at once, "及时" with no number of days (a_timely): pending."""
    return step.pending if done_on is None else step.at(None, "done", done_on)


def timed(step: Step, due: date, done_on: date | None, as_of: date) -> Action:
    """Overdue from the day after the due date; done on or before it, else done late."""
    if done_on is None:
        return step.at(due, "overdue" if as_of > due else "pending", None)
    return step.at(due, "done" if done_on <= due else "done_late", done_on)


# -- the plan's obligations (一, 二, 三), by rule ----------------------------------------------

TOWNSHIP, YRB, EEB_BRANCH = "sd_township_gov", "sd_yrb_office", "sd_eeb_branch"

# 一(四): the films' problems, transferred by 县推长办.
FILM_LIST_TRANSFER = Step(
    "film_list_transfer", "territorial_ownership", "routing", YRB, TOWNSHIP, "一(四)"
)
# 一(二): 举一反三 findings go on the "一张表", approved, transferred, filed.
TABLE_CONSENT = Step(
    "table_consent", "extrapolated_table", "review", EEB_BRANCH, "sd_county_gov", "一(二)"
)
TABLE_TRANSFER = Step(
    "table_transfer", "extrapolated_table", "review", EEB_BRANCH, TOWNSHIP, "一(二)"
)
TABLE_FILING = Step(
    "table_transfer_filing", "extrapolated_table", "review", EEB_BRANCH, YRB, "一(二)"
)
# 一(二) with 一(一): the sector lists take the same road (a_sector_table).
SECTOR_CONSENT = Step(
    "sector_table_consent", "sector_table", "review", EEB_BRANCH, "sd_county_gov", "一(二)"
)
SECTOR_TRANSFER = Step(
    "sector_table_transfer", "sector_table", "review", EEB_BRANCH, "sd_sector_dept", "一(二)"
)
SECTOR_FILING = Step(
    "sector_table_transfer_filing", "sector_table", "review", EEB_BRANCH, YRB, "一(二)"
)
# 一(三): reports are verified, then transferred.
PETITION_VERIFY = Step(
    "petition_verify", "petition_handling", "transfer", EEB_BRANCH, None, "一(三)"
)
PETITION_TRANSFER = Step(
    "petition_transfer", "petition_handling", "transfer", EEB_BRANCH, TOWNSHIP, "一(三)"
)
# 三(一): inspection findings are transferred by procedure.
INSPECTION_TRANSFER = Step(
    "inspection_problem_transfer", "inspection_transfer", "transfer", YRB, TOWNSHIP, "三(一)"
)

# 二(一), route A: national and provincial key problems; 5 working days after the superior's plan.
A_ASSIST = Step(
    "a_assist_superior_plan", "route_a_plan", "deadline", "sd_lead_unit", "superior_dept", "二(一)"
)
A_CONSENT = Step(
    "a_county_consent", "route_a_plan", "deadline", "sd_lead_unit", "sd_county_gov", "二(一)"
)
A_SUBMIT = Step(
    "a_submit_county_plan", "route_a_plan", "deadline", "sd_lead_unit", "sd_lead_dept", "二(一)"
)
A_ISSUE = Step(
    "a_deliberate_and_issue",
    "route_a_plan",
    "deadline",
    "sd_lead_dept",
    "sd_lg_office_meeting",
    "二(一)",
)
# Route B: national and provincial general, municipal key; 10 and 15 working days after transfer.
B_TOWNSHIP = Step(
    "b_submit_township_plan", "route_b_plan", "deadline", TOWNSHIP, "sd_lead_dept", "二(一)"
)
B_COUNTY = Step(
    "b_submit_county_plan", "route_b_plan", "deadline", TOWNSHIP, "bs_lead_dept", "二(一)"
)
B_ISSUE = Step(
    "b_expert_review_and_issue",
    "route_b_plan",
    "deadline",
    "bs_yrb_office",
    "bs_lg_office_meeting",
    "二(一)",
)
# Route C: municipal general; the same windows, the city's sector department approves.
C_TOWNSHIP = Step(
    "c_submit_township_plan", "route_c_plan", "deadline", TOWNSHIP, "sd_lead_dept", "二(一)"
)
C_COUNTY = Step(
    "c_submit_county_plan", "route_c_plan", "deadline", TOWNSHIP, "bs_sector_dept", "二(一)"
)
C_ISSUE = Step("c_approve_and_issue", "route_c_plan", "deadline", "bs_sector_dept", None, "二(一)")

# 二(三): filing copies once closed, sent by the closing body (a_filing_sender).
C2_FILE_YRB = Step(
    "c2_file_yrb_office",
    "c2_closure_filing",
    "disclosure",
    "yn_lead_dept",
    "yn_yrb_office",
    "二(三)",
)
C2_FILE_EED = Step(
    "c2_file_eed", "c2_closure_filing", "disclosure", "yn_lead_dept", "yn_eed", "二(三)"
)
C3_FILE_YRB = Step(
    "c3_file_yrb_office",
    "c3_closure_filing",
    "disclosure",
    "bs_lead_dept",
    "bs_yrb_office",
    "二(三)",
)
C3_FILE_EEB = Step(
    "c3_file_eeb", "c3_closure_filing", "disclosure", "bs_lead_dept", "bs_eeb", "二(三)"
)
C4_FILE_YRB = Step(
    "file_municipal_yrb_office",
    "municipal_closure_filing",
    "disclosure",
    "sd_county_gov",
    "bs_yrb_office",
    "二(三)",
)
C4_FILE_EEB = Step(
    "file_municipal_eeb",
    "municipal_closure_filing",
    "disclosure",
    "sd_county_gov",
    "bs_eeb",
    "二(三)",
)

# 二(四): 回头看 for every rectified problem; the cross-check where coverage is full.
LOOKBACK = Step("lookback_check", "lookback", "review", TOWNSHIP, None, "二(四)")
CROSS_CHECK = Step(
    "lookback_cross_check", "lookback_full_coverage", "review", YRB, TOWNSHIP, "二(四)"
)

# 三(二), 三(三): what the flags set off.
PENALTY = Step("impose_penalty", "administrative_penalty", "transfer", EEB_BRANCH, None, "三(二)")
TO_POLICE = Step(
    "transfer_case_to_police", "crime_transfer", "transfer", EEB_BRANCH, "sd_psb", "三(二)"
)
COPY_PROCURATORATE = Step(
    "copy_procuratorate", "crime_transfer", "transfer", EEB_BRANCH, "sd_procuratorate", "三(二)"
)
REFER_PROSECUTION = Step(
    "police_refer_prosecution", "crime_transfer", "transfer", "sd_psb", "sd_procuratorate", "三(二)"
)
PROSECUTE = Step(
    "prosecute", "crime_transfer", "transfer", "sd_procuratorate", "sd_court", "三(二)"
)
RETURN_FOR_PENALTY = Step(
    "return_for_penalty", "crime_transfer", "transfer", "judicial_organ", "admin_organ", "三(二)"
)
PUBLIC_INTEREST = Step(
    "transfer_public_interest_clue",
    "public_interest_transfer",
    "transfer",
    EEB_BRANCH,
    "sd_procuratorate",
    "三(二)",
)
TO_DISCIPLINE = Step(
    "transfer_to_discipline",
    "accountability_transfer",
    "transfer",
    YRB,
    "sd_cdi_supervision",
    "三(三)",
)
TO_ORGANISATION = Step(
    "transfer_to_organisation", "accountability_transfer", "transfer", YRB, "sd_org_dept", "三(三)"
)

# -- 二(三): the closure chains, each step with the event that records it done -----------------


def _chain(chain_id: str, *steps: tuple[str, str, str | None, str]) -> tuple[tuple[Step, str], ...]:
    return tuple(
        (Step(step_id, chain_id, "closure_step", actor, recipient, "二(三)"), event)
        for step_id, actor, recipient, event in steps
    )


C1 = _chain(
    "c1_national_provincial",
    ("c1_self_check", "sd_county_gov", None, "self_checked"),
    ("c1_municipal_acceptance", "bs_gov", None, "accepted_by_municipal"),
    ("c1_municipal_sign_off", "bs_gov_leader_relevant", "yn_lead_dept", "signed_off"),
    ("c1_provincial_acceptance", "yn_lead_dept", None, "accepted_by_provincial"),
    ("c1_close", "yn_gov_leader_in_charge", None, "closed"),
)
C2 = _chain(
    "c2_provincial_key",
    ("c2_self_check", "sd_county_gov", None, "self_checked"),
    ("c2_municipal_acceptance", "bs_gov", None, "accepted_by_municipal"),
    ("c2_municipal_sign_off", "bs_gov_leader_in_charge", "yn_lead_dept", "signed_off"),
    ("c2_provincial_acceptance", "yn_lead_dept", None, "accepted_by_provincial"),
    ("c2_close", "yn_lead_dept_head", None, "closed"),
)
C3 = _chain(
    "c3_provincial_general_municipal_key",
    ("c3_self_check", TOWNSHIP, None, "self_checked"),
    ("c3_county_acceptance", "sd_county_gov", None, "accepted_by_county"),
    ("c3_county_sign_off", "sd_county_gov_leader_in_charge", "bs_lead_dept", "signed_off"),
    ("c3_close", "bs_lead_dept", None, "closed"),
)
C4 = _chain(
    "c4_municipal_general",
    ("c4_self_check", TOWNSHIP, None, "self_checked"),
    ("c4_sign_off", "sd_dept_head", "sd_county_gov", "signed_off"),
    ("c4_close", "sd_county_gov", None, "closed"),
)
CHAIN_EVENTS = frozenset(event for chain in (C1, C2, C3, C4) for _, event in chain)
ALL_OPEN = {id(chain): tuple(step.state(None) for step, _ in chain) for chain in (C1, C2, C3, C4)}

# -- 一(一), 四(二), 四(三): recurring duties ----------------------------------------------------

SECTOR_LIST_DRC = Step(
    "sector_list_to_drc", "sector_list_to_drc", "recurring", "sd_sector_dept", "sd_drc", "一(一)"
)
SECTOR_LIST_EEB = Step(
    "sector_list_to_eeb_branch",
    "sector_list_to_eeb_branch",
    "recurring",
    "sd_sector_dept",
    EEB_BRANCH,
    "一(一)",
)
MONTHLY = Step("monthly_dispatch", "monthly_dispatch", "recurring", YRB, TOWNSHIP, "四(二)")
HALF_MONTHLY = Step(
    "half_monthly_dispatch", "half_monthly_dispatch", "recurring", YRB, TOWNSHIP, "四(二)"
)
ANNUAL = Step(
    "annual_township_evaluation", "annual_township_evaluation", "recurring", YRB, TOWNSHIP, "四(三)"
)


def month_end(day: date) -> date:
    if day.month == 12:
        return date(day.year, 12, 31)
    return date.fromordinal(date(day.year, day.month + 1, 1).toordinal() - 1)


def next_list_day(day: date) -> date:
    """6 May and 6 November, inclusive (a_sector_list_dates): the next on or after ``day``."""
    for month in (5, 11):
        candidate = date(day.year, month, 6)
        if candidate >= day:
            return candidate
    return date(day.year + 1, 5, 6)


# -- intake --------------------------------------------------------------------------------


def refuse(field: str, value: object, message: str, fact_id: object = None) -> FactError:
    return FactError([FactProblem(field, value, message)], fact_id)


def read_day(value: object) -> date:
    """A China calendar date from a date, a datetime (aware ones converted to Shanghai time)
    or an ISO 8601 date or datetime string; ValueError otherwise."""
    if type(value) is str:
        text = value.strip()
        if not (len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:10].isascii()):
            raise ValueError("expected an ISO 8601 date or datetime")
        if len(text) == 10:
            return date.fromisoformat(text)
        if text[10] not in "T ":
            raise ValueError("expected an ISO 8601 date or datetime")
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(SHANGHAI)
            except OverflowError:
                raise ValueError("the date is outside the supported range") from None
        return value.date()
    if isinstance(value, date):
        return value
    raise ValueError("expected an ISO 8601 date or datetime")


class ReadFact:
    """The fact as read: what ``decision_id`` hashes (every event, as_of or not)."""

    __slots__ = ("attrs", "category", "events", "flags", "id", "kind", "sector", "source")

    def __init__(
        self,
        id: str | None,
        source: str,
        category: str,
        sector: str | None,
        flags: frozenset[str],
        events: dict[str, date],
    ):
        self.id, self.kind, self.source, self.category = id, "problem", source, category
        self.sector, self.flags, self.events = sector, flags, events
        self.attrs: dict[str, Any] = {}


def read_plain(data: dict[str, Any]) -> ReadFact | None:
    """The usual ledger row — strings and ISO dates, all in the vocabulary — read quickly;
    None for anything else, which ``read`` then looks at carefully."""
    if not (FIELDS.issuperset(data) and data.get("attrs", NO_ATTRS) in PLAIN):
        return None
    get = data.get
    fact_id, source, category, sector = get("id"), get("source"), get("category"), get("sector")
    raw_flags, raw_events = get("flags"), get("events")
    if (
        (fact_id is None or type(fact_id) is str)
        and get("kind", "problem") == "problem"
        and type(source) is str
        and source in SOURCES
        and type(category) is str
        and category in CATEGORIES
        and (sector is None or (type(sector) is str and sector in SECTORS))
        and (
            raw_flags is None
            or (
                type(raw_flags) is list
                and all(type(flag) is str for flag in raw_flags)
                and FLAGS.issuperset(raw_flags)
            )
        )
        and (raw_events is None or (type(raw_events) is dict and EVENTS.issuperset(raw_events)))
    ):
        events: dict[str, date] = {}
        for name, value in (raw_events or {}).items():
            if not (type(value) is str and len(value) == 10 and value.isascii()):
                break
            if value[4] != "-" or value[7] != "-":
                break
            try:
                day = date.fromisoformat(value)
            except ValueError:
                break
            if not FIRST_DAY <= day <= LAST_DAY:
                break
            events[name] = day
        else:
            flags = frozenset(raw_flags) if raw_flags else NO_FLAGS
            return ReadFact(fact_id, source, category, sector, flags, events)
    return None


def read(data: Fact | Mapping[str, Any]) -> ReadFact:
    """Shape and vocabulary checks; FactError naming the first problem."""
    if type(data) is dict:
        plain = read_plain(data)
        if plain is not None:
            return plain
    if isinstance(data, Fact):
        data = data.model_dump(exclude_defaults=True)
    if not isinstance(data, Mapping):
        raise refuse(
            "fact", type(data).__name__, "a fact is a mapping (JSON object) or ecorules.Fact"
        )
    get = data.get
    fact_id = get("id")
    shown_id = fact_id if type(fact_id) is str else None
    for name in data:
        if name not in FIELDS:
            raise refuse(str(name), data[name], "unknown field", shown_id)
    if fact_id is not None and type(fact_id) is not str:
        raise refuse("id", fact_id, "input should be a valid string")
    for name in ("kind", "source", "category", "sector"):
        value = get(name)
        if value is not None and type(value) is not str:
            raise refuse(name, value, "input should be a valid string", shown_id)
    kind = get("kind", "problem")
    if kind != "problem":
        raise refuse("kind", kind, "unknown kind", shown_id)
    raw_flags = get("flags")
    if raw_flags is None:
        flags: frozenset[str] = frozenset()
    elif type(raw_flags) in (list, tuple, set, frozenset) and all(
        type(f) is str for f in raw_flags
    ):
        flags = frozenset(raw_flags)
    else:
        raise refuse("flags", raw_flags, "input should be a valid frozenset of strings", shown_id)
    raw_events = get("events")
    events: dict[str, date] = {}
    if raw_events:
        if not isinstance(raw_events, Mapping):
            raise refuse("events", raw_events, "input should be a valid dictionary", shown_id)
        for name, value in raw_events.items():
            if type(name) is not str:
                raise refuse("events", name, "input should be a valid string", shown_id)
            try:
                events[name] = read_day(value)
            except ValueError as exc:
                raise refuse(f"events.{name}", value, str(exc), shown_id) from None
    elif raw_events is not None and not isinstance(raw_events, Mapping):
        raise refuse("events", raw_events, "input should be a valid dictionary", shown_id)
    attrs = get("attrs")
    if attrs is not None and not isinstance(attrs, Mapping):
        raise refuse("attrs", attrs, "input should be a valid dictionary", shown_id)
    source, category, sector = get("source"), get("category"), get("sector")
    if source is None:
        raise refuse("source", None, "a problem needs a source", shown_id)
    if source not in SOURCES:
        raise refuse("source", source, "unknown source", shown_id)
    if category is None:
        raise refuse("category", None, "a problem needs a category", shown_id)
    if category not in CATEGORIES:
        raise refuse("category", category, "unknown category", shown_id)
    if sector is not None and sector not in SECTORS:
        raise refuse("sector", sector, "unknown sector", shown_id)
    if not flags <= FLAGS:
        raise refuse("flags", min(flags - FLAGS), "unknown flag", shown_id)
    for name, day in events.items():
        if name not in EVENTS:
            raise refuse(f"events.{name}", name, "unknown event", shown_id)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise refuse(
                f"events.{name}", day.isoformat(), "dates must fall in 2000–2050", shown_id
            )
    if attrs:  # Shidian declares no attributes
        name = next(iter(attrs))
        raise refuse(f"attrs.{name}", name, "unknown attribute", shown_id)
    return ReadFact(fact_id, source, category, sector, flags, events)


# -- evaluation ----------------------------------------------------------------------------

BY_DUE_THEN_ID = attrgetter("due", "id")
BY_ID = attrgetter("id")


def evaluate(data: Fact | Mapping[str, Any], as_of: date | str) -> Decision:
    """The Shidian decision about ``data`` as of ``as_of``, equal to the engine's."""
    if type(as_of) is not date:
        try:
            as_of = read_day(as_of)
        except ValueError as exc:
            raise refuse("as_of", as_of, str(exc)) from None
    fact = read(data)
    if not FIRST_DAY <= as_of <= LAST_DAY:
        raise refuse("as_of", as_of.isoformat(), "dates must fall in 2000–2050", fact.id)
    source, category, flags = fact.source, fact.category, fact.flags
    warnings: list[Notice] = []

    # Dates that cannot all be true: warned about, still decided on.
    events = fact.events
    if len(events) > 1:
        for later, then in events.items():
            for earlier in COMES_AFTER.get(later, ()):
                first = events.get(earlier)
                if first is not None and then < first:
                    warnings.append(
                        Notice(
                            "event_before_its_cause",
                            f"{EVENT_NAMES[later]} (`{later}`, {then.isoformat()}) is dated "
                            f"before {EVENT_NAMES[earlier]} (`{earlier}`, {first.isoformat()}), "
                            "which comes first: check the ledger's dates",
                        )
                    )
    if events and max(events.values()) > as_of:
        future = sorted(name for name, day in events.items() if day > as_of)
        events = {name: day for name, day in events.items() if day <= as_of}
        warnings.append(
            Notice(
                "event_after_as_of",
                "events dated after as_of are treated as not yet happened: " + ", ".join(future),
            )
        )
    get = events.get
    dated: list[Action] = []
    undated: list[Action] = []
    matched: list[str] = []
    beyond_horizon = False
    upper = source == "national" or source == "provincial"

    # 一: who owns the problem, and how a county-found problem is transferred.
    if source == "sector_screening":  # 一(一) owner; 一(二) the table (a_sector_table)
        matched += ("sector_ownership", "sector_table")
        responsible = "sd_sector_dept"
        undated.append(open_ended(SECTOR_CONSENT, get("reported"), get("table_approved")))
        undated.append(open_ended(SECTOR_TRANSFER, get("table_approved"), get("transferred")))
        undated.append(open_ended(SECTOR_FILING, get("transferred"), get("transfer_filed")))
    elif source == "media":  # 一(四)
        matched.append("territorial_ownership")
        responsible = TOWNSHIP
        undated.append(open_ended(FILM_LIST_TRANSFER, get("reported"), get("transferred")))
    elif source == "democratic_supervision":  # 二(二)
        matched.append("democratic_supervision_ownership")
        responsible = TOWNSHIP
    elif source == "extrapolated_screening":  # 一(二)
        matched.append("extrapolated_table")
        responsible = TOWNSHIP
        undated.append(open_ended(TABLE_CONSENT, get("reported"), get("table_approved")))
        undated.append(open_ended(TABLE_TRANSFER, get("table_approved"), get("transferred")))
        undated.append(open_ended(TABLE_FILING, get("transferred"), get("transfer_filed")))
    elif source == "petition":  # 一(三)
        matched.append("petition_handling")
        responsible = TOWNSHIP
        undated.append(open_ended(PETITION_VERIFY, get("reported"), get("verified")))
        undated.append(open_ended(PETITION_TRANSFER, get("verified"), get("transferred")))
    elif source in INSPECTIONS:  # 三(一)
        matched.append("inspection_transfer")
        responsible = TOWNSHIP
        undated.append(open_ended(INSPECTION_TRANSFER, get("reported"), get("transferred")))

    # 二(一): the plan routes and their working-day windows.
    if upper and category == "key":  # route A
        matched.append("route_a_plan")
        responsible = "sd_lead_unit"
        issued = get("upper_plan_issued")
        undated.append(open_ended(A_ASSIST, get("transferred"), issued))
        if issued is None:
            consented = get("county_consented")
            undated.append(
                A_CONSENT.scheduled if consented is None else A_CONSENT.at(None, "done", consented)
            )
            submitted = get("plan_submitted")
            undated.append(
                A_SUBMIT.scheduled if submitted is None else A_SUBMIT.at(None, "done", submitted)
            )
        else:
            due = add_working_days(issued, 5)
            beyond_horizon = due > HORIZON
            dated.append(timed(A_CONSENT, due, get("county_consented"), as_of))
            dated.append(timed(A_SUBMIT, due, get("plan_submitted"), as_of))
        undated.append(open_ended(A_ISSUE, get("plan_submitted"), get("plan_issued")))
    elif upper or source == "municipal":  # routes B (upper general, municipal key) and C
        route_b = upper or category == "key"
        if route_b:
            matched.append("route_b_plan")
            township, county, issue = B_TOWNSHIP, B_COUNTY, B_ISSUE
        else:
            matched.append("route_c_plan")
            township, county, issue = C_TOWNSHIP, C_COUNTY, C_ISSUE
        responsible = TOWNSHIP
        transferred = get("transferred")
        if transferred is None:
            done = get("plan_submitted")
            undated.append(township.scheduled if done is None else township.at(None, "done", done))
            done = get("county_plan_submitted")
            undated.append(county.scheduled if done is None else county.at(None, "done", done))
        else:
            due = add_working_days(transferred, 10)
            dated.append(timed(township, due, get("plan_submitted"), as_of))
            due = add_working_days(transferred, 15)
            beyond_horizon = due > HORIZON
            dated.append(timed(county, due, get("county_plan_submitted"), as_of))
        undated.append(open_ended(issue, get("county_plan_submitted"), get("plan_issued")))

    # 二(三): filing copies after closure.
    closed_on, filed_on = get("closed"), get("closure_filed")
    if source == "provincial" and category == "key":
        matched.append("c2_closure_filing")
        undated.append(open_ended(C2_FILE_YRB, closed_on, filed_on))
        undated.append(open_ended(C2_FILE_EED, closed_on, filed_on))
    elif (source == "provincial" and category == "general") or (
        source == "municipal" and category == "key"
    ):
        matched.append("c3_closure_filing")
        undated.append(open_ended(C3_FILE_YRB, closed_on, filed_on))
        undated.append(open_ended(C3_FILE_EEB, closed_on, filed_on))
    elif source == "municipal":
        matched.append("municipal_closure_filing")
        undated.append(open_ended(C4_FILE_YRB, closed_on, filed_on))
        undated.append(open_ended(C4_FILE_EEB, closed_on, filed_on))

    # 二(四): 回头看.
    rectified = get("rectified")
    matched.append("lookback")
    undated.append(open_ended(LOOKBACK, rectified, get("lookback_done")))
    if upper or source == "democratic_supervision":
        matched.append("lookback_full_coverage")
        undated.append(open_ended(CROSS_CHECK, rectified, get("cross_checked")))

    # 三(二), 三(三): enforcement and clue transfers, set off by flags.
    if flags:
        if "environmental_violation" in flags:
            matched.append("administrative_penalty")
            undated.append(untriggered(PENALTY, get("penalised")))
        if "suspected_crime" in flags:
            matched.append("crime_transfer")
            case_transferred, referred = get("case_transferred"), get("prosecution_referred")
            undated.append(untriggered(TO_POLICE, case_transferred))
            undated.append(untriggered(COPY_PROCURATORATE, get("procuratorate_copied")))
            undated.append(open_ended(REFER_PROSECUTION, case_transferred, referred))
            undated.append(open_ended(PROSECUTE, referred, get("indicted")))
            undated.append(
                open_ended(
                    RETURN_FOR_PENALTY,
                    get("criminal_liability_declined"),
                    get("returned_for_penalty"),
                )
            )
        if "public_interest" in flags:
            matched.append("public_interest_transfer")
            undated.append(untriggered(PUBLIC_INTEREST, get("public_interest_clue_transferred")))
        if "perfunctory" in flags or "fake_rectification" in flags:
            matched.append("accountability_transfer")
            undated.append(untriggered(TO_DISCIPLINE, get("discipline_clue_transferred")))
            undated.append(untriggered(TO_ORGANISATION, get("organisation_clue_transferred")))

    # 二(三): the closure chain, the class-specific ones before the general (a_specific_chains).
    if source == "provincial":
        chain, chain_id = (
            (C2, "c2_provincial_key")
            if category == "key"
            else (
                C3,
                "c3_provincial_general_municipal_key",
            )
        )
    elif upper or source == "democratic_supervision":
        chain, chain_id = C1, "c1_national_provincial"
    elif source == "municipal" and category == "key":
        chain, chain_id = C3, "c3_provincial_general_municipal_key"
    else:  # municipal general, and every county-found or film problem (a_county_origin_chain)
        chain, chain_id = C4, "c4_municipal_general"
    matched.append(chain_id)
    started = rectified is not None
    closed = False
    if CHAIN_EVENTS.isdisjoint(events):
        steps: tuple[ChainStepState, ...] = ALL_OPEN[id(chain)]
        first_step = chain[0][0]
        undated.append(first_step.pending if started else first_step.scheduled)
    else:
        states = []
        next_step: Step | None = None
        for step, event in chain:
            done_on = get(event)
            if done_on is None and next_step is None:
                next_step = step
            states.append(step.state(done_on))
        steps = tuple(states)
        closed = closed_on is not None
        if next_step is not None:
            if closed:
                warnings.append(
                    Notice(
                        "closed_with_open_steps",
                        f"`closed` is recorded but earlier steps of `{chain_id}` are not, "
                        f"first `{next_step.id}`",
                    )
                )
            else:
                undated.append(next_step.pending if started else next_step.scheduled)

    # 一(一), 四(二), 四(三): the next occurrence of each recurring duty.
    if source == "sector_screening":
        matched += ("sector_list_to_drc", "sector_list_to_eeb_branch")
        due = next_list_day(as_of)
        dated.append(SECTOR_LIST_DRC.on(due))
        dated.append(SECTOR_LIST_EEB.on(due))
    if closed_on is None:
        matched.append("monthly_dispatch")
        end = month_end(as_of)
        dated.append(MONTHLY.on(end))
        if category == "key":  # 重难点 = key (a_difficult_is_key): the 15th and the month's end
            matched.append("half_monthly_dispatch")
            dated.append(
                HALF_MONTHLY.on(date(as_of.year, as_of.month, 15) if as_of.day <= 15 else end)
            )
    matched.append("annual_township_evaluation")
    dated.append(ANNUAL.on(date(as_of.year, 12, 31)))

    dated.sort(key=BY_DUE_THEN_ID)
    undated.sort(key=BY_ID)
    if beyond_horizon:
        warnings.append(BEYOND_HORIZON)
    if as_of < PUBLISHED:
        warnings.append(
            Notice("pack_not_in_force", f"as_of {as_of.isoformat()} is outside the pack's validity")
        )
    if len(warnings) > 1:
        warnings.sort(key=attrgetter("code"))
    return new_decision(  # the engine's own fast constructor: a fair floor for both
        fact_id=fact.id,
        pack="shidian",
        as_of=as_of,
        kind="problem",
        source=source,
        category=category,
        responsible=responsible,
        responsible_tier=TIER[responsible],
        closure_chain_id=chain_id,
        closure_chain=steps,
        closed=closed,
        actions=(*dated, *undated),
        matched_rules=tuple(matched),
        warnings=tuple(warnings),
        provenance="provision",
        lifecycle_id=None,
        stage=None,
        explanation=None,
        calendar=CALENDAR_IDENTITY,
        decision_id=Deferred(decision_id, (SEED, fact, as_of)),  # hashed when read, as the engine's
        revision=REVISION,
        version=None,
    )
