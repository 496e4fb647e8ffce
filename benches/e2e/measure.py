"""Run one command as a child and report its resource use as JSON on the last stdout line.

``python -m benches.e2e.measure -- CMD ...``: the wrapper has exactly one child, so
``getrusage(RUSAGE_CHILDREN)`` after ``wait`` is that child's CPU time and peak RSS (its
whole process, every thread), not the wrapper's and not the other benchmark runs'. The
child's stdout is passed through (the last line of it is usually the child's own JSON summary).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m benches.e2e.measure -- CMD [ARGS...]", file=sys.stderr)
        return 2
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stdout.write(proc.stdout.decode(errors="replace"))
    report = {
        "returncode": proc.returncode,
        "wall_s": wall,
        "cpu_user_s": usage.ru_utime,
        "cpu_sys_s": usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
    }
    print("\n" + json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
