"""Local Elasticsearch and moto for tests and development (`scripts/services`, pytest plugin).

Stage: test harness only. Imports neither `recall_fast` nor pytest here, so the services CLI
runs before the extension is built; the pytest fixtures live in `tests.services.fixtures`.
"""

from tests.services.elasticsearch import ES_VERSION, ElasticsearchNode, find_java_home
from tests.services.moto import MotoServer
from tests.services.process import ServiceStartError

__all__ = ["ES_VERSION", "ElasticsearchNode", "MotoServer", "ServiceStartError", "find_java_home"]
