"""Grid: every combination of the list-valued keys, the scalars fixed (API §11)."""
import itertools
import json

from .config import OWNER, canonical, check_keys


def _is_axis(key, value):
    """A list, tuple or range is an axis; for ``trace`` (itself a list of names) only a list
    of lists is."""
    if isinstance(value, range):
        return True
    if not isinstance(value, (list, tuple)):
        return False
    if key == "trace":
        return bool(value) and all(isinstance(v, (list, tuple)) for v in value)
    return True


def config_key(config):
    """The identity of a trial: its complete canonical config as sorted JSON."""
    return json.dumps(config, sort_keys=True)


class Grid:
    """``Grid(**axes)``: the trials of every combination of the list-valued keys.

    ``Grid(depth=[5, 10], activation=["sigmoid", "relu"], seed=range(3), epochs=5)`` has
    2 x 2 x 3 = 12 trials. Every key and value is checked here, before any trial runs:
    an unknown key or value raises ValueError listing the valid ones; an empty grid raises."""

    def __init__(self, **axes):
        self._configs = _expand(axes)
        _finish(self._configs)

    @classmethod
    def from_configs(cls, configs):
        """A grid from a list of config dicts (each may itself hold axes)."""
        if not isinstance(configs, (list, tuple)):
            raise TypeError(f"{OWNER}: expected a list of config dicts, got {configs!r}")
        grid = cls.__new__(cls)
        grid._configs = []
        for i, entry in enumerate(configs):
            if not isinstance(entry, dict):
                raise TypeError(f"{OWNER}: grid entry {i} must be a dict of config keys, got "
                                f"{entry!r}")
            grid._configs += _expand(entry)
        _finish(grid._configs)
        return grid

    def configs(self):
        """The complete canonical config of every trial, in grid order (copies)."""
        return [dict(c) for c in self._configs]

    def varying(self):
        """The keys whose value differs between trials, in config order."""
        return varying_keys(self._configs)

    def __len__(self):
        return len(self._configs)

    def __iter__(self):
        return iter(self.configs())

    def __repr__(self):
        return f"<Grid trials={len(self)} varying={self.varying()}>"


def varying_keys(configs):
    if not configs:
        return []
    keys = list(configs[0])
    return [k for k in keys if len({json.dumps(c[k]) for c in configs}) > 1]


def _expand(axes):
    check_keys(axes)
    names, values = [], []
    for key, value in axes.items():
        if _is_axis(key, value):
            value = list(value)
            if not value:
                raise ValueError(f"{OWNER}: the axis {key!r} is empty, so the grid has no trials")
            names.append(key)
            values.append(value)
    fixed = {k: v for k, v in axes.items() if k not in names}
    out = []
    for combo in itertools.product(*values):
        out.append(canonical(dict(fixed, **dict(zip(names, combo)))))
    return out


def _finish(configs):
    if not configs:
        raise ValueError(f"{OWNER}: the grid is empty (no trials)")
    seen = {}
    for i, c in enumerate(configs):
        key = config_key(c)
        if key in seen:
            raise ValueError(f"{OWNER}: trials {seen[key]} and {i} of the grid have the same "
                             f"config {c}; a trial is identified by its config")
        seen[key] = i


def as_grid(obj):
    """A Grid from a Grid, a dict of lists (or scalars) or a list of config dicts."""
    if isinstance(obj, Grid):
        return obj
    if isinstance(obj, dict):
        return Grid(**obj)
    if isinstance(obj, (list, tuple)):
        return Grid.from_configs(obj)
    raise TypeError(f"{OWNER}: expected a Grid, a dict of lists or a list of config dicts, "
                    f"got {type(obj).__name__}")
