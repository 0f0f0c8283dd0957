"""A Spark DataFrame of facts decided where it lies: decisions and actions as DataFrames.

Warehouses keep problem ledgers as tables far larger than one machine reads comfortably, and
want the decisions back as tables to query with SQL. So the evaluator runs inside Spark's own
Python workers through ``mapInArrow``: each worker process loads the pack once (a module-level
cache keyed by the pack's source and revision and the calendar notices), then decides Arrow
batch after batch with ``Pack.evaluate_many``, exactly as the command line decides a ledger.

Everything that can be wrong about the job as a whole (the pack, the notices, the column
mapping against the DataFrame's columns) is checked on the driver before any task runs; a
row's own problems come back in its place, as a decisions row with an ``error``, never dropped.
pyspark and pyarrow are imported here unguarded: ``ecorules.spark`` says which extra to install.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from ._calendar import CalendarNotice
from ._decision import Decision
from ._errors import FactError, FactProblem
from ._fact import parse_as_of
from ._ledger import LedgerRow, _row_fact
from ._mapping import LedgerVocabulary, columns_for, read_mapping
from ._notices import ENV_VAR
from ._pack import Pack, load_pack, policies_dir, resolve_pack_dir
from ._report import RefusedFact
from ._revision import _pack_files

VersionOn = Literal["start", "as_of"]


def _string(name: str) -> StructField:
    return StructField(name, StringType(), True)


ACTION_FIELDS = StructType(
    [
        StructField("action_id", StringType(), False),
        _string("title"),
        _string("kind"),
        _string("rule"),
        _string("actor"),
        _string("actor_name"),
        _string("tier"),
        _string("recipient"),
        StructField("due", DateType(), True),
        _string("status"),
        _string("basis"),
        StructField("done_on", DateType(), True),
        _string("provenance"),
    ]
)
"""One action; the actions DataFrame is the problem's id and decision id, then these."""

DECISION_FIELDS = StructType(
    [
        _string("fact_id"),
        _string("decision_id"),
        _string("pack"),
        _string("revision"),
        _string("version"),
        StructField("as_of", DateType(), False),
        _string("kind"),
        _string("source"),
        _string("category"),
        _string("responsible"),
        _string("responsible_name"),
        _string("responsible_tier"),
        _string("closure_chain_id"),
        _string("stage"),
        StructField("closed", BooleanType(), True),
        StructField("action_count", IntegerType(), True),
        StructField("pending_count", IntegerType(), True),
        StructField("overdue_count", IntegerType(), True),
        StructField("scheduled_count", IntegerType(), True),
        StructField("done_count", IntegerType(), True),
        StructField("next_due", DateType(), True),
        StructField("overdue", BooleanType(), True),
        StructField("warnings", ArrayType(StringType(), False), True),
        _string("error"),
        _string("decision"),
    ]
)
"""One problem: its decision's summary and the decision itself as JSON, or, for a refused
row, ``error`` (and ``fact_id`` where the row gave one) with the rest null."""

ACTIONS_SCHEMA = StructType([_string("fact_id"), _string("decision_id"), *ACTION_FIELDS.fields])
"""The schema of ``SparkDecisions.actions``: one row per action."""

_BASE_SCHEMA = StructType(
    [
        *DECISION_FIELDS.fields,
        StructField("actions", ArrayType(ACTION_FIELDS, False), True),
    ]
)
"""What each worker emits: the decisions row with its actions nested, split in two below."""


def _arrow_type(spark_type: Any) -> pa.DataType:
    if isinstance(spark_type, StringType):
        return pa.string()
    if isinstance(spark_type, DateType):
        return pa.date32()
    if isinstance(spark_type, BooleanType):
        return pa.bool_()
    if isinstance(spark_type, IntegerType):
        return pa.int32()
    if isinstance(spark_type, ArrayType):
        return pa.list_(pa.field("element", _arrow_type(spark_type.elementType), False))
    if isinstance(spark_type, StructType):
        return pa.struct([_arrow_field(f) for f in spark_type.fields])
    raise TypeError(spark_type)  # pragma: no cover - every type above is listed


def _arrow_field(field: StructField) -> pa.Field:
    return pa.field(field.name, _arrow_type(field.dataType), field.nullable)


_ARROW_SCHEMA = pa.schema([_arrow_field(f) for f in _BASE_SCHEMA.fields])


@dataclass(frozen=True, slots=True)
class SparkDecisions:
    """What ``decide`` returns: two DataFrames over one evaluation.

    Both are lazy views of the same ``mapInArrow`` stage: Spark evaluates the facts once per
    action (a write, a count) that needs them. Writing both, call ``persist()`` first so the
    facts are decided once, and ``unpersist()`` after."""

    decisions: DataFrame
    """One row per input row (``DECISION_FIELDS`` after the kept columns)."""
    actions: DataFrame
    """One row per action of every decision (``ACTIONS_SCHEMA`` after the kept columns)."""
    nested: DataFrame
    """The decisions with their actions as an array column: what the workers produce."""

    def persist(self) -> SparkDecisions:
        """Keep the decided rows (memory, spilling to disk) so both DataFrames reuse them."""
        self.nested.persist()
        return self

    def unpersist(self) -> SparkDecisions:
        self.nested.unpersist()
        return self


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything a worker needs, pickled once per task with the function."""

    source: str
    """A bundled pack's name, or the pack directory's name."""
    files: tuple[tuple[str, bytes], ...] | None
    """A pack directory that is not bundled, shipped with the job: its files (the ones its
    revision hashes) by relative path. Packs are a few hundred KB at most, and an executor
    on another machine has no copy of the driver's directory."""
    revision: str
    calendar: Any
    """The driver's calendar identity: a worker whose pack or notices differ refuses to run."""
    notices: tuple[CalendarNotice | str, ...]
    aliases: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    by_field: tuple[tuple[str, str], ...]
    keep: tuple[str, ...]
    as_of: date
    version_on: VersionOn
    with_json: bool


def decide(
    df: DataFrame,
    as_of: date | str,
    pack: str | os.PathLike[str] = "shidian",
    *,
    columns: Mapping[str, str] | None = None,
    mapping: str | os.PathLike[str] | None = None,
    calendar_notices: Iterable[CalendarNotice | str | os.PathLike[str]] | None = None,
    keep: Sequence[str] = (),
    version_on: VersionOn = "start",
    with_json: bool = True,
) -> SparkDecisions:
    """Decide every row of ``df`` (a fact per row) as of ``as_of`` with ``pack``.

    Columns map to fact fields as a ledger's do (docs/ledgers.md): ``columns`` (field →
    column) and a ``mapping`` file (columns and value aliases), and every other column the
    pack's words recognise (编号, 来源, 问题移交日期 …); values may be the pack's Chinese
    names and dates DateType, timestamps or office-written text. ``keep`` names input
    columns copied onto each decisions and actions row (a region, a key to join back on).

    The pack is loaded and the mapping checked here, on the driver, raising PackError or
    FactError before any task runs; each executor process then loads the pack once. A pack
    directory that is not bundled travels with the job, its files read here. Calendar
    notice files must be readable at the same path on the executors (or pass
    ``CalendarNotice`` values): a worker whose calendar differs from the driver's fails.
    """
    day = parse_as_of(as_of)
    if version_on not in ("start", "as_of"):
        raise ValueError(f"version_on is `start` or `as_of`, not `{version_on}`")
    given = dict(columns or {})
    aliases: dict[str, dict[str, str]] = {}
    if mapping is not None:
        read = read_mapping(os.fspath(mapping))
        given = {**read.columns, **given}
        aliases = read.values
    notices = _notices(calendar_notices)
    pack = pack if isinstance(pack, str) else Path(pack)
    loaded = load_pack(pack, calendar_notices=notices)
    words = LedgerVocabulary.of(loaded, aliases)
    by_field = columns_for(list(df.columns), given, words, "DataFrame")
    unknown = [c for c in keep if c not in df.columns]
    if unknown:
        raise FactError(
            [FactProblem("keep", ", ".join(unknown), "not a column", tuple(df.columns))]
        )
    clash = [c for c in keep if c in _BASE_SCHEMA.fieldNames()]
    if clash:
        raise FactError(
            [FactProblem("keep", ", ".join(clash), "is a column of the decisions: rename it")]
        )

    directory = resolve_pack_dir(pack)
    bundled = directory.parent == policies_dir()
    files = None
    if not bundled:
        files = tuple((name, path.read_bytes()) for name, path in _pack_files(directory))
    job = _Job(
        source=loaded.name if bundled else directory.name,
        files=files,
        revision=loaded.revision,
        calendar=loaded.calendar_identity,
        notices=notices,
        aliases=tuple((k, tuple(sorted(v.items()))) for k, v in sorted(aliases.items())),
        by_field=tuple(by_field.items()),
        keep=tuple(keep),
        as_of=day,
        version_on=version_on,
        with_json=with_json,
    )
    kept = [df.schema[c] for c in keep]
    schema = StructType([*kept, *_BASE_SCHEMA.fields])
    nested = df.mapInArrow(partial(_decide_batches, job), schema)
    decisions = nested.drop("actions")
    ids = [F.col(f"`{c}`") for c in (*keep, "fact_id", "decision_id")]
    actions = nested.select(*ids, F.inline("actions"))
    return SparkDecisions(decisions, actions, nested)


def _notices(
    given: Iterable[CalendarNotice | str | os.PathLike[str]] | None,
) -> tuple[CalendarNotice | str, ...]:
    """The notices as the driver sees them, explicit: a worker's environment may name other
    files in ECORULES_CALENDAR, or none."""
    if given is None:
        env = os.environ.get(ENV_VAR, "")
        return tuple(p for p in env.split(os.pathsep) if p.strip())
    if isinstance(given, str | os.PathLike):
        return (os.fspath(given),)
    return tuple(n if isinstance(n, CalendarNotice) else os.fspath(n) for n in given)


class _Worker:
    """One executor process's pack and role names, shared by every task it runs, with the
    ledger words of each value-alias mapping it has been given."""

    __slots__ = ("pack", "roles", "words")

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.roles = {r.id: r.name for part in pack.versions for r in part.model.roles}
        self.words: dict[Any, LedgerVocabulary] = {}

    def words_for(self, job: _Job) -> LedgerVocabulary:
        words = self.words.get(job.aliases)
        if words is None:
            aliases = {k: dict(v) for k, v in job.aliases}
            words = self.words[job.aliases] = LedgerVocabulary.of(self.pack, aliases)
        return words


_WORKERS: dict[tuple[Any, ...], _Worker] = {}
_LOCK = threading.Lock()
LOADS: Counter[str] = Counter()
"""Packs loaded by this process, by revision: one per executor process, however many tasks
and batches it decides (the tests read it from the workers)."""


def _worker(job: _Job) -> _Worker:
    # By content, not by path: the same pack directory shipped or installed elsewhere is
    # the same pack, and is not loaded again.
    key = (job.revision, job.notices)
    worker = _WORKERS.get(key)
    if worker is not None:
        return worker
    with _LOCK:  # tasks of one process may run in threads (Python worker reuse is per process)
        worker = _WORKERS.get(key)
        if worker is None:
            source: str | Path = job.source
            if job.files is not None:
                source = _unpack(job.source, job.files)
            pack = load_pack(source, calendar_notices=job.notices)
            if pack.revision != job.revision or pack.calendar_identity != job.calendar:
                raise RuntimeError(
                    f"the pack an executor loaded ({source}) is not the driver's: revision "
                    f"{pack.revision} against {job.revision}, or another calendar; install "
                    "the same ecorules, holidays and notice files on every machine"
                )
            LOADS[pack.revision] += 1
            worker = _WORKERS[key] = _Worker(pack)
    return worker


def _unpack(name: str, files: tuple[tuple[str, bytes], ...]) -> Path:
    """The shipped pack written out in a directory of this process's own, named as the
    pack (a pack's id must be its directory's name), removed when the process ends."""
    root = Path(tempfile.mkdtemp(prefix="ecorules-pack-"))
    atexit.register(shutil.rmtree, root, True)
    directory = root / name
    for relative, data in files:
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return directory


def _decide_batches(job: _Job, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    worker = _worker(job)
    words = worker.words_for(job)
    by_field = dict(job.by_field)
    flags = by_field.get("flags")
    names = words.names
    schema = _ARROW_SCHEMA
    for batch in batches:
        rows = batch.select(list(by_field.values())).to_pylist() if by_field else []
        if flags is not None:  # an array column of flags reads as a ledger's list of them
            for row in rows:
                if isinstance(row.get(flags), list):
                    row[flags] = " ".join(str(f) for f in row[flags] if f is not None)
        facts = (
            LedgerRow(0, _row_fact(row, by_field, words), None, by_field, names=names)
            for row in rows
        )
        results = worker.pack.evaluate_many(facts, job.as_of, version_on=job.version_on)
        columns: dict[str, list[Any]] = {name: [] for name in schema.names}
        for result in results:
            _append(columns, result, worker, job)
        out = pa.RecordBatch.from_pydict(columns, schema=schema)
        if job.keep:
            kept = [batch.column(batch.schema.get_field_index(c)) for c in job.keep]
            out = pa.RecordBatch.from_arrays(
                [*kept, *out.columns],
                schema=pa.schema([*(batch.schema.field(c) for c in job.keep), *schema]),
            )
        yield out


_OPEN = ("pending", "overdue")


def _append(
    columns: dict[str, list[Any]],
    result: Decision | RefusedFact,
    worker: _Worker,
    job: _Job,
) -> None:
    if isinstance(result, RefusedFact):
        for values in columns.values():
            values.append(None)
        columns["fact_id"][-1] = result.fact_id
        columns["as_of"][-1] = job.as_of
        columns["error"][-1] = result.error
        return
    statuses = Counter(a.status for a in result.actions)
    open_dues = [a.due for a in result.actions if a.status in _OPEN and a.due is not None]
    roles = worker.roles
    row: dict[str, Any] = {
        "fact_id": result.fact_id,
        "decision_id": result.decision_id,
        "pack": result.pack,
        "revision": result.revision,
        "version": result.version,
        "as_of": result.as_of,
        "kind": result.kind,
        "source": result.source,
        "category": result.category,
        "responsible": result.responsible,
        "responsible_name": roles.get(result.responsible) if result.responsible else None,
        "responsible_tier": result.responsible_tier,
        "closure_chain_id": result.closure_chain_id,
        "stage": result.stage,
        "closed": result.closed,
        "action_count": len(result.actions),
        "pending_count": statuses["pending"],
        "overdue_count": statuses["overdue"],
        "scheduled_count": statuses["scheduled"],
        "done_count": statuses["done"] + statuses["done_late"],
        "next_due": min(open_dues) if open_dues else None,
        "overdue": statuses["overdue"] > 0,
        "warnings": [w.code for w in result.warnings],
        "error": None,
        "decision": result.model_dump_json() if job.with_json else None,
        "actions": [
            {
                "action_id": a.id,
                "title": a.title,
                "kind": a.kind,
                "rule": a.rule,
                "actor": a.actor,
                "actor_name": roles.get(a.actor),
                "tier": a.tier,
                "recipient": a.recipient,
                "due": a.due,
                "status": a.status,
                "basis": a.basis,
                "done_on": a.done_on,
                "provenance": a.provenance,
            }
            for a in result.actions
        ],
    }
    for name, values in columns.items():
        values.append(row[name])
