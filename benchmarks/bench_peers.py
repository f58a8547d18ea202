"""minigrad against its peers: the ``python -m minigrad bench`` command as a script.

    python benchmarks/bench_peers.py [--workloads lecture,deep] [--peers numpy,torch]
                                     [--contention] [--startup] [--micro] [--plot PATH]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo

from minigrad.bench import main

if __name__ == "__main__":
    sys.exit(main())
