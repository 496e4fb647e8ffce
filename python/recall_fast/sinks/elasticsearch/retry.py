"""Retry decisions of the Elasticsearch sink: pure functions, tested exhaustively.

Stage: sink. What to do with each bulk item and each failed request:

- 2xx: indexed. 409 on ``create``: the document already exists (a redelivery): indexed.
- 429 (``es_rejected_execution_exception``), 5xx, 408, and 403 ``cluster_block_exception`` (an
  index made read-only by the disk flood-stage watermark clears by itself): retry the item.
- any other 4xx (mapping and parse errors, ``illegal_argument_exception``...): it can never
  succeed as it is; dead-letter it with Elasticsearch's reason.

Back-off is capped exponential with "equal jitter": half the exponential step is fixed and half
random, so concurrent senders spread out but never retry immediately. Requests that fail as a
whole (connection refused/reset, timeout, 429/502/503/504 for the request) are retried within a
time budget; after it, the object fails transiently and the queue's growing delays take over.

Must not import clients or the native extension.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from typing import Final

#: Whole-request HTTP statuses worth retrying (overload, gateway trouble, timeouts).
RETRYABLE_REQUEST_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
#: 4xx error types that are transient despite their status.
TRANSIENT_4XX_TYPES: Final = frozenset({"cluster_block_exception"})


class ItemVerdict(enum.Enum):
    """Fate of one bulk item."""

    INDEXED = "indexed"
    ALREADY_INDEXED = "already_indexed"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


def item_verdict(status: int, error_type: str | None, action: str) -> ItemVerdict:
    """Decide what to do with one bulk item from its status and error type.

    Args:
        status: The item's HTTP status.
        error_type: ``error.type`` of the item, if any.
        action: The bulk action sent (``create`` or ``index``).

    Returns:
        The verdict.
    """
    if 200 <= status < 300:
        return ItemVerdict.INDEXED
    if status == 409 and action == "create":
        return ItemVerdict.ALREADY_INDEXED
    if status in (408, 409, 429) or status >= 500:
        return ItemVerdict.RETRY
    if error_type in TRANSIENT_4XX_TYPES:
        return ItemVerdict.RETRY
    return ItemVerdict.DEAD_LETTER


def backoff_s(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay before retry number ``attempt`` (1 for the first retry).

    Args:
        attempt: 1-based retry number.
        base_s: Delay step of the first retry.
        cap_s: Largest step.
        rand: Uniform [0, 1) source (tests pass a fixed one).

    Returns:
        A delay in ``[step / 2, step)`` with ``step = min(cap_s, base_s * 2**(attempt - 1))``.
    """
    step = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return step / 2 + rand() * step / 2


def request_status_retryable(status: int) -> bool:
    """Whether a whole-request HTTP error status is worth retrying."""
    return status in RETRYABLE_REQUEST_STATUSES
