"""Shared fixtures and markers.

The real local services (Elasticsearch node, moto server) come from the plugin in
``tests/services/fixtures.py``; they start lazily, once per session, only when a test asks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.services.fixtures"]

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SHARED_ZEEK = REPO_ROOT.parent / "shared" / "data" / "zeek"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The repository's own small fixtures (also read by cargo tests)."""
    return FIXTURES


@pytest.fixture(scope="session")
def shared_zeek() -> Path:
    """The real Zeek logs beside the repository (``../shared/data/zeek``).

    CI always has them; a developer without ``../shared`` gets a clear failure rather than a
    silently skipped test.
    """
    if not SHARED_ZEEK.is_dir():
        pytest.fail(f"real Zeek data not found at {SHARED_ZEEK}; CI always has it")
    return SHARED_ZEEK
