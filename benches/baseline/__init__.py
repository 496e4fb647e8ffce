"""The jobs recall_fast does, written the way a competent Python user would.

These are the honest baselines every benchmark compares against, run on the same data in the
same process: gzip from the standard library, ``pyarrow.csv`` / ``pyarrow.json`` for parsing,
``Table.to_pylist()`` plus ``orjson`` for documents, and ``elasticsearch.helpers`` async
streaming bulk for indexing. Nothing here is deliberately slow; where pyarrow has a faster
switch (multithreading off only to compare one core to one core), it is named.
"""
