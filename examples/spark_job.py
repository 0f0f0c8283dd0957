"""A nightly Spark job: decide a ledger table with ecorules, write decisions and actions as
Parquet, and count the overdue actions per tier and body with SQL (docs/spark.md).

    PYSPARK_PYTHON=.venv/bin/python .venv/bin/spark-submit --master 'local[2]' \\
        examples/spark_job.py examples/shidian_ledger.jsonl build/spark --as-of 2024-10-30
"""

from __future__ import annotations

import argparse

from pyspark.sql import SparkSession

from ecorules.spark import decide


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger", help="JSON Lines facts (any table Spark reads will do)")
    parser.add_argument("out", help="a folder for decisions/ and actions/ (Parquet)")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--pack", default="shidian", help="a bundled pack or a pack directory")
    args = parser.parse_args()

    spark = SparkSession.builder.appName("ecorules-nightly").getOrCreate()
    # A ledger table's columns: the fact's fields, and one column per event (events.* spreads
    # the JSON's nested events into columns named by the event ids).
    facts = spark.read.json(args.ledger).select("id", "source", "category", "events.*")
    result = decide(facts, args.as_of, args.pack).persist()  # decided once, written twice
    result.decisions.write.mode("overwrite").parquet(f"{args.out}/decisions")
    result.actions.write.mode("overwrite").parquet(f"{args.out}/actions")

    result.actions.createOrReplaceTempView("actions")
    spark.sql(
        """
        SELECT tier, actor_name, count(*) AS overdue, min(due) AS oldest_due
        FROM actions WHERE status = 'overdue'
        GROUP BY tier, actor_name ORDER BY overdue DESC
        """
    ).show(truncate=False)
    refused = result.decisions.filter("error IS NOT NULL").select("fact_id", "error")
    refused.show(truncate=False)
    result.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
