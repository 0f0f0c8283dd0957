"""ecorules.spark in local mode (`local[2]`): the decisions and actions DataFrames are what
`evaluate_many` decides for the same facts, refusals included, and each executor process
loads the pack once. Skips without pyspark or Java; CI sets ECORULES_REQUIRE_SPARK=1 (after
installing the `spark` extra), which turns the skip into a failure."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import ecorules
from ecorules._ledger import read_ledger
from ecorules._mapping import LedgerVocabulary, read_mapping

from .conftest import pack_dir

AS_OF = "2024-11-01"

pytestmark = [
    # pyspark 4.0.x (the extra's lower bound) leaves the driver's socket to a collect() open
    # for the garbage collector; 4.3 does not. Nothing here opens sockets of its own.
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


def _missing(reason: str) -> None:
    if os.environ.get("ECORULES_REQUIRE_SPARK"):
        pytest.fail(f"ECORULES_REQUIRE_SPARK is set, but {reason}")
    pytest.skip(reason)


def _java_works() -> bool:
    java = shutil.which("java", path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin"))
    java = java or shutil.which("java")
    if java is None:
        return False
    return subprocess.run([java, "-version"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[2] session for the module: starting the JVM is most of the time."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _missing("pyspark is not installed: pip install -e '.[spark]'")
    if not _java_works():
        _missing("no Java runtime (Spark needs Java 17 or newer): apt-get install openjdk-17-jre")
    # The workers must run this interpreter, the one ecorules is installed in (Spark's own
    # default is `python3` on the PATH, which may not have it).
    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    # SparkContext puts its own Ctrl-C handler on the process: the tests after these expect
    # the one they had.
    sigint = signal.getsignal(signal.SIGINT)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("ecorules-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        signal.signal(signal.SIGINT, sigint)
        if saved is None:
            os.environ.pop("PYSPARK_PYTHON", None)
        else:
            os.environ["PYSPARK_PYTHON"] = saved


LEDGER = """\
问题编号,问题来源,问题类别,情形,问题移交日期,整改方案报县级牵头部门审核日期,区县
SP-1,省里,一般性问题,,2024/9/27,,石台
SP-2,国家移交,重点突出问题,反复曝光,2024-08-01,2024-08-20,石台
SP-3,举报投诉,一般性问题,,2024年6月3日,2024-06-20,东至
SP-4,不存在的来源,一般性问题,,2024-07-01,,东至
SP-5,市级确定,key,,2024-13-40,,石台
SP-6,民主监督,一般性问题,,,,东至
"""
"""A ledger as an office keeps it: Chinese headers and values, a value alias from the
mapping (省里), office-written dates, and two rows the pack refuses (SP-4, SP-5)."""

MAPPING = """\
columns:
  id: 问题编号
values:
  source: {省里: provincial}
"""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("spark")
    (folder / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return folder / "ledger.csv", folder / "mapping.yaml"


def _expected(pack: ecorules.Pack, csv: Path, mapping: Path) -> list[Any]:
    """What the command line's path decides for the same ledger: read_ledger + evaluate_many."""
    read = read_mapping(str(mapping))
    words = LedgerVocabulary.of(pack, read.values)
    rows = read_ledger(str(csv), read.columns, words=words)
    return list(pack.evaluate_many(rows, AS_OF))


def _decided(spark: Any, csv: Path, mapping: Path, **options: Any) -> Any:
    from ecorules.spark import decide

    df = spark.read.csv(str(csv), header=True, encoding="UTF-8")
    return decide(df, AS_OF, "shidian", mapping=mapping, **options)


@pytest.mark.slow
def test_decisions_are_evaluate_many_s_for_the_same_ledger(
    spark: Any, ledger: tuple[Path, Path], shidian: ecorules.Pack
) -> None:
    csv, mapping = ledger
    expected = _expected(shidian, csv, mapping)
    rows = {r["fact_id"]: r.asDict() for r in _decided(spark, csv, mapping).decisions.collect()}
    assert sorted(rows) == [f"SP-{i}" for i in range(1, 7)]
    refused = [e for e in expected if isinstance(e, ecorules.RefusedFact)]
    assert [r.fact_id for r in refused] == ["SP-4", "SP-5"]  # both refusals are in the test
    for result in expected:
        row = rows[result.fact_id]
        assert row["as_of"] == date(2024, 11, 1)
        if isinstance(result, ecorules.RefusedFact):
            # the refusal names the ledger's own column, as on the command line
            assert row["error"] == result.error
            assert "问题来源 (source)" in result.error or "问题移交日期" in result.error
            assert row["decision"] is None and row["decision_id"] is None
            continue
        assert row["error"] is None
        assert row["decision"] == result.model_dump_json()
        statuses = Counter(a.status for a in result.actions)
        open_dues = [a.due for a in result.actions if a.status in ("pending", "overdue") and a.due]
        assert row == {
            **row,
            "decision_id": result.decision_id,
            "revision": shidian.revision,
            "source": result.source,
            "responsible": result.responsible,
            "responsible_name": shidian.role(result.responsible).name
            if result.responsible
            else None,
            "responsible_tier": result.responsible_tier,
            "closed": result.closed,
            "action_count": len(result.actions),
            "overdue_count": statuses["overdue"],
            "pending_count": statuses["pending"],
            "overdue": statuses["overdue"] > 0,
            "next_due": min(open_dues, default=None),
            "warnings": list(result.warning_codes),
        }
    assert rows["SP-1"]["source"] == "provincial"  # the mapping's alias, read on the workers
    assert any(rows[i]["overdue"] for i in rows if rows[i]["error"] is None)


@pytest.mark.slow
def test_actions_are_the_decisions_flattened_and_sql_counts_them(
    spark: Any, ledger: tuple[Path, Path], shidian: ecorules.Pack
) -> None:
    csv, mapping = ledger
    result = _decided(spark, csv, mapping, keep=["区县"]).persist()
    try:
        decisions = result.decisions.collect()
        actions = result.actions.collect()
        result.actions.createOrReplaceTempView("ecorules_actions")
        overdue_by_tier = {
            r["tier"]: r["n"]
            for r in spark.sql(
                "SELECT tier, count(*) AS n FROM ecorules_actions "
                "WHERE status = 'overdue' GROUP BY tier"
            ).collect()
        }
    finally:
        result.unpersist()
    flattened = []
    for row in decisions:
        if row["decision"] is None:
            continue
        decision = json.loads(row["decision"])
        for a in decision["actions"]:
            flattened.append(
                (row["区县"], decision["fact_id"], decision["decision_id"], a["id"], a["actor"],
                 a["tier"], a["due"], a["status"], a["basis"], a["done_on"])
            )  # fmt: skip
    got = [
        (r["区县"], r["fact_id"], r["decision_id"], r["action_id"], r["actor"], r["tier"],
         r["due"] and r["due"].isoformat(), r["status"], r["basis"],
         r["done_on"] and r["done_on"].isoformat())
        for r in actions
    ]  # fmt: skip
    assert sorted(got, key=str) == sorted(flattened, key=str)
    assert len(got) > 10
    expected = Counter(
        a.tier
        for d in _expected(shidian, csv, mapping)
        if isinstance(d, ecorules.Decision)
        for a in d.actions
        if a.status == "overdue"
    )
    assert overdue_by_tier == dict(expected)
    assert overdue_by_tier  # the ledger has overdue actions to count


@pytest.mark.slow
def test_typed_columns_dates_and_flag_arrays_decide_as_facts(
    spark: Any, shidian: ecorules.Pack
) -> None:
    from pyspark.sql.types import ArrayType, DateType, StringType, StructField, StructType

    from ecorules.spark import decide

    schema = StructType(
        [
            StructField("id", StringType()),
            StructField("source", StringType()),
            StructField("category", StringType()),
            StructField("flags", ArrayType(StringType())),
            StructField("transferred", DateType()),
        ]
    )
    data = [
        ("T-1", "national", "key", ["perfunctory"], date(2024, 9, 2)),
        ("T-2", "municipal", "general", [], date(2024, 10, 8)),
        ("T-3", "municipal", "general", None, None),
    ]
    df = spark.createDataFrame(data, schema)
    got = {r["fact_id"]: r["decision"] for r in decide(df, AS_OF).decisions.collect()}
    facts = [
        {"id": "T-1", "source": "national", "category": "key", "flags": ["perfunctory"],
         "events": {"transferred": "2024-09-02"}},
        {"id": "T-2", "source": "municipal", "category": "general",
         "events": {"transferred": "2024-10-08"}},
        {"id": "T-3", "source": "municipal", "category": "general"},
    ]  # fmt: skip
    for decision in shidian.evaluate_many(facts, AS_OF):
        assert isinstance(decision, ecorules.Decision)
        assert got[decision.fact_id] == decision.model_dump_json()


@pytest.mark.slow
def test_each_executor_process_loads_the_pack_once(spark: Any, shidian: ecorules.Pack) -> None:
    from ecorules.spark import decide

    facts = [
        {"id": f"L-{i}", "source": "municipal", "category": "general", "transferred": "2024-10-08"}
        for i in range(3000)
    ]
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "100")
    try:
        df = spark.createDataFrame(facts).repartition(8)
        decided = decide(df, AS_OF).decisions
        assert decided.rdd.getNumPartitions() == 8
        assert decided.filter("error IS NULL").count() == 3000  # 8 tasks, 30+ Arrow batches
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")

    def loads(batches: Any) -> Any:
        import pyarrow as pa

        from ecorules import _spark

        for _ in batches:
            pass
        yield pa.RecordBatch.from_pydict(
            {"pid": [os.getpid()], "loads": [_spark.LOADS[shidian.revision]]}
        )

    probe = spark.range(0, 32, numPartitions=16).mapInArrow(loads, "pid long, loads long")
    per_process: dict[int, int] = {}
    for row in probe.collect():
        per_process[row["pid"]] = row["loads"]
    # Every Python worker Spark reused for the probe saw at most one load of the pack,
    # however many tasks (8 here, plus the other tests') and batches it decided.
    assert max(per_process.values()) == 1, per_process
    assert len(per_process) < 8, per_process  # workers are reused, not one per task


@pytest.mark.slow
def test_a_pack_directory_is_decided_as_loaded_from_it(
    spark: Any, tmp_path: Path, ledger: tuple[Path, Path]
) -> None:
    copy = tmp_path / "packs" / "shidian"
    shutil.copytree(pack_dir("shidian"), copy)
    with (copy / "pack.yaml").open("a", encoding="utf-8") as text:
        text.write("# an office's copy: another revision, so the workers load it from here\n")
    pack = ecorules.load_pack(copy)
    assert pack.revision != ecorules.load_pack("shidian").revision
    csv, mapping = ledger
    expected = {
        e.fact_id: e.model_dump_json() for e in _expected(pack, csv, mapping) if isinstance(
            e, ecorules.Decision)
    }  # fmt: skip
    from ecorules.spark import decide

    df = spark.read.csv(str(csv), header=True)
    rows = decide(df, AS_OF, copy, mapping=mapping).decisions.collect()
    got = {r["fact_id"]: r["decision"] for r in rows if r["error"] is None}
    assert got == expected
    assert {r["revision"] for r in rows if r["error"] is None} == {pack.revision}

    revision = pack.revision

    def loaded_from(batches: Any) -> Any:
        import pyarrow as pa

        from ecorules import _spark

        for _ in batches:
            pass
        paths = [str(w.pack.path) for w in _spark._WORKERS.values() if w.pack.revision == revision]
        yield pa.RecordBatch.from_pydict({"path": paths})

    probe = spark.range(0, 8, numPartitions=4).mapInArrow(loaded_from, "path string")
    paths = {r["path"] for r in probe.collect()}
    # The workers decided from the files shipped with the job, not from the driver's folder
    # (on a cluster, an executor has no such folder).
    assert paths and str(copy) not in paths
    assert all(Path(p).name == "shidian" and "ecorules-pack-" in p for p in paths)


@pytest.mark.slow
def test_a_mapping_the_dataframe_does_not_fit_fails_on_the_driver(spark: Any) -> None:
    from ecorules.spark import decide

    df = spark.createDataFrame([{"编号": "X", "来源": "国家移交"}])
    with pytest.raises(ecorules.FactError, match=r"not in the DataFrame header.*问题编号"):
        decide(df, AS_OF, columns={"id": "问题编号"})
    with pytest.raises(ecorules.FactError, match="keep"):
        decide(df, AS_OF, keep=["区县"])
    with pytest.raises(ecorules.UnknownPackError):
        decide(df, AS_OF, "no-such-pack")


def test_without_the_extra_the_import_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.delitem(sys.modules, "ecorules.spark", raising=False)
    with pytest.raises(ImportError) as caught:
        importlib.import_module("ecorules.spark")
    assert str(caught.value) == (
        "ecorules.spark needs pyspark and pyarrow: pip install 'ecorules[spark]'"
    )


@pytest.mark.slow
def test_the_spark_namespace(spark: Any) -> None:
    import ecorules.spark

    assert ecorules.spark.__all__ == [
        "ACTIONS_SCHEMA",
        "ACTION_FIELDS",
        "DECISION_FIELDS",
        "SparkDecisions",
        "decide",
    ]
    assert ecorules.spark.DECISION_FIELDS["as_of"].dataType.typeName() == "date"
    assert ecorules.spark.ACTIONS_SCHEMA.fieldNames()[:3] == ["fact_id", "decision_id", "action_id"]
