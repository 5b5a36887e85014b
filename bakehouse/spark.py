"""The Spark Connect session every transform runs on.

By default Bakehouse starts Sail (a Rust Spark Connect server, no JVM) inside the
process on 127.0.0.1. Setting `BAKEHOUSE_SPARK_REMOTE=sc://host:port` points the very
same DataFrame code at any Spark Connect endpoint (a Spark 4 cluster with delta-spark,
or Databricks) instead.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from bakehouse.config import LOCAL_TZ

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# One Sail server per process: it is process infrastructure (like a thread pool), and
# starting one per asset or per test would cost a second each for nothing.
_sail_lock = threading.Lock()
_sail_server = None
_sail_url: str | None = None


def sail_url() -> str:
    """Start the in-process Sail server once and return its Spark Connect URL."""
    global _sail_server, _sail_url
    with _sail_lock:
        if _sail_url is None:
            # Sail logs every session at INFO and every shutdown at WARN.
            os.environ.setdefault("RUST_LOG", "warn,sail_common::actor=error")
            from pysail.spark import SparkConnectServer

            server = SparkConnectServer(ip="127.0.0.1", port=0)
            server.start(background=True)
            host, port = server.listening_address
            _sail_server, _sail_url = server, f"sc://{host}:{port}"
        return _sail_url


def spark_session(remote: str | None = None) -> SparkSession:
    """A Spark Connect session on `remote`, or on the in-process Sail server.

    The session time zone is the chain's (Asia/Shanghai), so `to_date(ts)` is the
    business date and local times without an offset parse as local time.
    """
    from pyspark.sql import SparkSession

    url = remote or sail_url()
    session = SparkSession.builder.remote(url).getOrCreate()
    session.conf.set("spark.sql.session.timeZone", LOCAL_TZ)
    return session
