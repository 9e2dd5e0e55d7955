"""The sales analytics inside Spark (local mode) give the file run's numbers.

pyspark from PyPI on the machine's Java runtime, started once for the module (~20-40 s). The
clinic case's canonical transactions (refunds as negative rows) become a Spark table; the
analyses run there through ibis and only aggregates come back.
"""

from __future__ import annotations

import shutil

import pytest
from engine_cases import clinic, file_and_engine_analytics


@pytest.fixture(scope="module")
def spark():
    ibis = pytest.importorskip("ibis")
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (java) on this machine: Spark cannot start; install default-jre-headless")
    try:
        session = (
            pyspark_sql.SparkSession.builder.master("local[2]")
            .appName("cjm-engine-test")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "1")  # a small table: one partition per shuffle
            .config("spark.default.parallelism", "1")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate()
        )
    except Exception as e:  # the JVM could not start
        pytest.skip(f"Spark could not start in local mode ({type(e).__name__}: {str(e).splitlines()[0][:200]})")
    session.sparkContext.setLogLevel("ERROR")
    con = ibis.pyspark.connect(session)
    yield con, session
    session.stop()


def test_spark_sales_analytics_equal_the_file_run(spark):
    con, session = spark
    case, _, _, both = clinic()
    session.createDataFrame(both).createOrReplaceTempView("clinic_transactions")
    session.catalog.cacheTable("clinic_transactions")  # held by Spark, not read from Python again per query
    file_and_engine_analytics(con, "clinic_transactions", "pyspark", len(both))
