"""End-to-end benchmark: S3 -> Elasticsearch, recall_fast's pipeline vs a plain-Python client.

Run: ``python -m benches.e2e --gb 0.2 --rounds 3`` (see ``benches/README.md``).
"""
