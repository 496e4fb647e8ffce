"""Reading ``_bulk`` responses: which items were indexed, must be retried or dead-lettered.

Stage: sink. The sink asks Elasticsearch for a filtered response (``filter_path``) with only
``errors`` and each item's status and error type/reason, so a 5,000-item response stays small.
When ``errors`` is false, no item is looked at. The items are positional: item ``i`` is the
``i``-th action/document pair of the body that was sent.

Must not import clients or the native extension.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from recall_fast.errors import RecallError
from recall_fast.sinks.elasticsearch.retry import ItemVerdict, item_verdict

#: The response fields the sink needs (passed as ``filter_path``).
FILTER_PATH: Final = "errors,items.*.status,items.*.error.type,items.*.error.reason"


class BulkResponseError(RecallError, RuntimeError):
    """A bulk response does not match its request (item count, shape): retry the request."""


@dataclass(frozen=True, slots=True)
class ItemError:
    """A rejected item: its position in the body and Elasticsearch's reason."""

    position: int
    status: int
    error_type: str
    reason: str


@dataclass(slots=True)
class BulkResult:
    """The items of one response, sorted by fate."""

    indexed: int = 0
    already_indexed: int = 0
    retry: list[int] = field(default_factory=list)
    rejected: list[ItemError] = field(default_factory=list)
    retry_statuses: dict[int, int] = field(default_factory=dict)


def parse_bulk_response(response: Mapping[str, object], n_items: int, action: str) -> BulkResult:
    """Sort the items of a (filtered) bulk response.

    Args:
        response: The decoded response body.
        n_items: Items sent.
        action: The bulk action sent.

    Returns:
        Counts and positions.

    Raises:
        BulkResponseError: The response is malformed or has the wrong number of items.
    """
    errors = response.get("errors")
    items = response.get("items")
    if errors is False and items is None:
        return BulkResult(indexed=n_items)
    if not isinstance(items, list) or len(items) != n_items:
        got = len(items) if isinstance(items, list) else "no"
        raise BulkResponseError(f"bulk response has {got} items for {n_items} sent")
    if errors is False:
        return BulkResult(indexed=n_items)
    result = BulkResult()
    for position, wrapper in enumerate(items):
        if not isinstance(wrapper, Mapping) or len(wrapper) != 1:
            raise BulkResponseError(f"bulk item {position} is malformed")
        item = next(iter(wrapper.values()))
        if not isinstance(item, Mapping):
            raise BulkResponseError(f"bulk item {position} is malformed")
        status = item.get("status")
        if not isinstance(status, int):
            raise BulkResponseError(f"bulk item {position} has no status")
        error = item.get("error")
        error_type = reason = ""
        if isinstance(error, Mapping):
            error_type = str(error.get("type", ""))
            reason = str(error.get("reason", ""))
        elif isinstance(error, str):
            reason = error
        verdict = item_verdict(status, error_type or None, action)
        if verdict is ItemVerdict.INDEXED:
            result.indexed += 1
        elif verdict is ItemVerdict.ALREADY_INDEXED:
            result.indexed += 1
            result.already_indexed += 1
        elif verdict is ItemVerdict.RETRY:
            result.retry.append(position)
            result.retry_statuses[status] = result.retry_statuses.get(status, 0) + 1
        else:
            result.rejected.append(ItemError(position, status, error_type, reason))
    return result
