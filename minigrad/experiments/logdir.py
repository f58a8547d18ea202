"""TensorBoard event files per trial (``--logdir``), through the callbacks' ``write_trial``."""
from .config import label
from .grid import varying_keys


def writer():
    """``minigrad.callbacks.tensorboard.write_trial``, or ImportError saying what is missing."""
    try:
        from ..callbacks.tensorboard import write_trial
    except ImportError as e:
        raise ImportError(f"--logdir needs minigrad.callbacks.tensorboard.write_trial and the "
                          f"tensorboard extra (pip install 'minigrad[tensorboard]'): {e}") from None
    return write_trial


def run_name(config, keys):
    """``<case, or axis=value,...>-seed<k>``: one TensorBoard run per trial."""
    return f"{label(config, [k for k in keys if k != 'seed'])}-seed{config['seed']}"


def write_records(logdir, records):
    """One run per record under ``logdir``; returns the run names."""
    write_trial = writer()
    records = list(records)
    keys = varying_keys([r["config"] for r in records])
    names = []
    for record in records:
        name = run_name(record["config"], keys)
        write_trial(logdir, name, record)
        names.append(name)
    return names
