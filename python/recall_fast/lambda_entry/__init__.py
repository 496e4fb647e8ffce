"""AWS Lambda entry: ``handler.handle`` (SQS batches, direct S3 events) and its time budget.

Importing this package first imports elasticsearch-py with pyarrow hidden. Why: when pyarrow is
installed, ``elasticsearch.serializer`` imports it at import time only to offer an Arrow
serializer that recall_fast never uses (bulk bodies leave pre-encoded as NDJSON); measured
257 ms of a cold start on the 2-core dev machine, plus numpy's memory. The Lambda layer ships
without pyarrow anyway; this keeps the handler equally lean in images that do install it
(the ECS worker image, a developer's venv). pyarrow is hidden only for the duration of that one
import and only if neither module was imported before, so anything that imports pyarrow later
gets the real module. ``tests/lambda_entry`` asserts pyarrow stays out of ``sys.modules``.
"""

from __future__ import annotations

import sys


def _import_elasticsearch_without_pyarrow() -> None:
    """Import elasticsearch-py while ``import pyarrow`` raises ImportError, then restore."""
    if "elasticsearch" in sys.modules or "pyarrow" in sys.modules:
        return
    # A None entry in sys.modules makes the import statement raise ImportError (documented
    # import-system behaviour), which elasticsearch.serializer catches.
    sys.modules["pyarrow"] = None  # type: ignore[assignment]
    try:
        import elasticsearch  # noqa: F401
    finally:
        del sys.modules["pyarrow"]


_import_elasticsearch_without_pyarrow()
