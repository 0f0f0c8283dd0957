"""Decide a Spark DataFrame of facts in place: ``decide(df, as_of, pack)`` returns the
decisions and the actions as DataFrames (see docs/spark.md). Needs the ``spark`` extra."""

from __future__ import annotations

try:
    import pyarrow  # noqa: F401
    import pyspark  # noqa: F401
except ImportError:  # one line a person can act on, not a traceback into pyspark
    raise ImportError(
        "ecorules.spark needs pyspark and pyarrow: pip install 'ecorules[spark]'"
    ) from None

from ._spark import (
    ACTION_FIELDS,
    ACTIONS_SCHEMA,
    DECISION_FIELDS,
    SparkDecisions,
    decide,
)

__all__ = ["ACTIONS_SCHEMA", "ACTION_FIELDS", "DECISION_FIELDS", "SparkDecisions", "decide"]
