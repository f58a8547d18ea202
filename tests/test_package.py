"""The package (minigrad/__init__.py): a cheap import, the keras alias, the public modules."""
import subprocess
import sys

import minigrad as mg


def test_import_minigrad_does_not_import_numba():
    code = "import minigrad, sys; assert 'numba' not in sys.modules, 'numba imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_keras_alias_imports_the_same_modules():
    import minigrad
    import minigrad as tf
    import minigrad.callbacks
    from minigrad.keras import layers
    from minigrad.keras.callbacks import EarlyStopping
    from minigrad.keras.layers import Dense

    assert minigrad.keras is minigrad and layers is minigrad.layers
    assert EarlyStopping is minigrad.callbacks.EarlyStopping     # not a second copy
    assert Dense is minigrad.layers.Dense and tf.keras.layers.Dense is Dense


def test_public_namespaces_are_reachable_from_the_package():
    import minigrad.backend
    import minigrad.ops

    assert mg.ops is minigrad.ops and mg.backend is minigrad.backend
    assert mg.keras.ops.abs is mg.ops.abs
