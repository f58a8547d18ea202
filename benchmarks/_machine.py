"""What the benchmarks print about the machine they ran on: the one home is
``minigrad.bench.machine`` (the suite behind ``python -m minigrad bench``)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo

from minigrad.bench.machine import cpu_model  # noqa: E402

__all__ = ["cpu_model"]
