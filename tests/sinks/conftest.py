"""Helpers for sink tests: object contexts and decoded batches without the native decoder."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pytest

from recall_fast.config import TenantFeatures
from recall_fast.types import ObjectContext, ObjectRef


@dataclass
class Batch:
    """A decoded batch as the native decoder hands it over (PyCapsule export + metadata)."""

    data: pa.RecordBatch
    log_type: str
    first_record: int = 0

    @property
    def num_rows(self) -> int:
        return self.data.num_rows

    def __arrow_c_array__(self, requested_schema=None):
        return self.data.__arrow_c_array__(requested_schema)


@dataclass
class Chunk:
    body: bytes
    n_docs: int
    first_record: int = 0
    log_type: str = "conn"


def make_ctx(
    key: str = "acme/s1/conn/a.log", tenant: str = "acme", version: str = "v1"
) -> ObjectContext:
    return ObjectContext(
        ref=ObjectRef("bucket", key, version), tenant=tenant, features=TenantFeatures()
    )


@pytest.fixture
def ctx() -> ObjectContext:
    return make_ctx()
