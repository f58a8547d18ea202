"""Keras 3 as an optional oracle, run in a child process with KERAS_BACKEND=torch.

The child is a fresh interpreter, so neither the caller's environment nor a keras imported
earlier decides the backend, and nothing leaks into later tests. A child script starts with
``PREAMBLE`` (which exits 3 when keras cannot be imported); the test is then skipped only if
keras is absent here too, so a broken oracle script fails instead of skipping.
"""
import os
import subprocess
import sys

import pytest

PREAMBLE = """
import json, sys
import numpy as np
try:
    import keras
except ImportError:
    sys.exit(3)
assert keras.backend.backend() == "torch"
"""


def run_keras(script, *args, timeout=600):
    """Run ``PREAMBLE + script`` with ``args`` as ``sys.argv[1:]``; return its stdout."""
    pytest.importorskip("torch")
    child = subprocess.run([sys.executable, "-c", PREAMBLE + script, *map(str, args)],
                           env={**os.environ, "KERAS_BACKEND": "torch"}, capture_output=True,
                           text=True, check=False, timeout=timeout)
    if child.returncode == 3:
        pytest.importorskip("keras")
    assert child.returncode == 0, child.stderr
    return child.stdout
