"""ecorules: Chinese ecological-environment supervision policies as executable rules.

Load a policy pack, evaluate a problem fact as of a date, get the next actions with their
due dates, the responsible tier, the closure chain and the clause behind each::

    import ecorules
    pack = ecorules.load_pack("shidian")
    decision = pack.evaluate(fact, as_of="2024-10-15")

Everything public is named here; the modules behind it are private.
"""

from ._calendar import CalendarNotice, WorkingCalendar
from ._decision import (
    Action,
    CalendarIdentity,
    ChainStepState,
    Decision,
    Notice,
    NoticeIdentity,
)
from ._diff import ComparedFact, Comparison, ComparisonSummary, FactChange, PackChange
from ._errors import (
    BatchError,
    Diagnostic,
    EcorulesError,
    FactError,
    FactProblem,
    PackError,
    UnknownPackError,
)
from ._fact import Fact
from ._model import PackModel, pack_json_schema
from ._notices import CalendarError, read_calendar_notices
from ._pack import Pack, PackInfo, load_pack, packs
from ._report import RefusedFact, Report, ReportGroup, StageCount

__version__ = "0.1.0"

__all__ = [
    "Action",
    "BatchError",
    "CalendarError",
    "CalendarIdentity",
    "CalendarNotice",
    "ChainStepState",
    "ComparedFact",
    "Comparison",
    "ComparisonSummary",
    "Decision",
    "Diagnostic",
    "EcorulesError",
    "Fact",
    "FactChange",
    "FactError",
    "FactProblem",
    "Notice",
    "NoticeIdentity",
    "Pack",
    "PackChange",
    "PackError",
    "PackInfo",
    "PackModel",
    "RefusedFact",
    "Report",
    "ReportGroup",
    "StageCount",
    "UnknownPackError",
    "WorkingCalendar",
    "__version__",
    "load_pack",
    "pack_json_schema",
    "packs",
    "read_calendar_notices",
]
