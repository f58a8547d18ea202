"""A trial's configuration: the keys of API §11, their defaults, checks and canonical form.

Every config is stored complete and canonical (snake_case names, floats as floats, 0 clipnorm
as None), so that two spellings of the same trial are the same trial in a results file.
"""
import math
import numbers

from .._checks import boolean, in_range, integer, nonneg, positive, rate

DATASETS = ("digits", "digits28", "mnist", "fashion_mnist", "moons", "spirals")
OUTPUTS = ("softmax", "sigmoid")
TRACES = ("test_accuracy", "activation_mean", "activation_std", "preactivation_percentiles")
INIT_FORMS = ("normal:STD", "uniform:LIMIT", "scaled_normal:S", "scaled_uniform:S")

# defaults as the ``gradients`` command
DEFAULTS = {
    "dataset": "digits", "depth": 10, "width": 32, "activation": "sigmoid",
    "initializer": "glorot_uniform", "bias_initializer": "zeros", "batch_norm": False,
    "residual": False, "dropout": 0.0, "l2": 0.0, "output": "softmax",
    "optimizer": "sgd", "learning_rate": 0.1, "clipnorm": None, "batch_size": 32,
    "epochs": 20, "target": 0.8, "seed": 0, "train_samples": None,
    "trace": [], "trace_every": 10, "case": None,
}
KEYS = tuple(DEFAULTS)
OWNER = "experiments"


def _snake_name(registry, value, key):
    """The canonical snake_case name of a registered object, or ValueError listing them."""
    if not isinstance(value, str):
        raise TypeError(f"{OWNER}: {key} must be a name (str), got {value!r}")
    try:
        obj = registry.lookup(value)
    except ValueError:
        valid = [n for n in registry.names() if n == n.lower()]
        raise ValueError(f"{OWNER}: unknown {key} {value!r}; valid: {', '.join(valid)}"
                         + (f", or {', '.join(INIT_FORMS)}" if "initializer" in key else "")
                         ) from None
    for name in registry.names():
        if name == name.lower() and registry.lookup(name) is obj:
            return name
    return value


def initializer_spec(key, value):
    """A Keras initializer name or ``normal:STD``, ``uniform:LIMIT``, ``scaled_normal:S``,
    ``scaled_uniform:S`` with a positive number (stored as ``form:float``)."""
    from .. import initializers
    if isinstance(value, str) and ":" in value:
        form, _, number = value.partition(":")
        if form not in ("normal", "uniform", "scaled_normal", "scaled_uniform"):
            raise ValueError(f"{OWNER}: {key} {value!r}: unknown form {form!r}; valid: "
                             f"{', '.join(INIT_FORMS)} or a Keras initializer name")
        try:
            x = float(number)
        except ValueError:
            raise ValueError(f"{OWNER}: {key} {value!r}: expected {form}:NUMBER, e.g. "
                             f"{form}:1.0") from None
        if not (math.isfinite(x) and x > 0):
            raise ValueError(f"{OWNER}: {key} {value!r}: the number must be positive")
        return f"{form}:{x!r}"
    return _snake_name(initializers.registry, value, key)


def make_initializer(spec):
    """The initializer object for a canonical spec (see ``_initializer``).

    scaled_normal:S = N(0, S/n_in); scaled_uniform:S = U[-sqrt(S/n_in), sqrt(S/n_in)], which is
    VarianceScaling(scale=S/3, uniform) since that draws on +-sqrt(3 scale/n_in)."""
    from .. import initializers as ini
    if ":" not in spec:
        return spec
    form, _, number = spec.partition(":")
    x = float(number)
    if form == "normal":
        return ini.RandomNormal(mean=0.0, stddev=x)
    if form == "uniform":
        return ini.RandomUniform(minval=-x, maxval=x)
    if form == "scaled_normal":
        return ini.VarianceScaling(scale=x, mode="fan_in", distribution="untruncated_normal")
    return ini.VarianceScaling(scale=x / 3.0, mode="fan_in", distribution="uniform")


def _choice(key, value, valid):
    if not isinstance(value, str):
        raise TypeError(f"{OWNER}: {key} must be one of {list(valid)}, got {value!r}")
    if value not in valid:
        raise ValueError(f"{OWNER}: unknown {key} {value!r}; valid: {', '.join(valid)}")
    return value


def _trace(value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{OWNER}: trace must be a list of names from {list(TRACES)}, "
                        f"got {value!r}")
    for name in value:
        _choice("trace", name, TRACES)
    return [name for name in TRACES if name in value]     # canonical order, no repeats


def _clipnorm(value):
    if value is None:
        return None
    value = nonneg(OWNER, "clipnorm", value)
    return None if value == 0 else value      # TOML has no null: 0 means no clipping


def _train_samples(value):
    if value is None:
        return None
    value = integer(OWNER, "train_samples", value, 0)
    return None if value == 0 else value      # TOML has no null: 0 means all of them


def _case(value):
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{OWNER}: case must be a label (str) or None, got {value!r}")
    return value


def _learning_rate(value):
    return positive(OWNER, "learning_rate", value)


CHECKS = {
    "dataset": lambda v: _choice("dataset", v, DATASETS),
    "depth": lambda v: integer(OWNER, "depth", v, 1),
    "width": lambda v: integer(OWNER, "width", v, 1),
    "activation": lambda v: _activation(v),
    "initializer": lambda v: initializer_spec("initializer", v),
    "bias_initializer": lambda v: initializer_spec("bias_initializer", v),
    "batch_norm": lambda v: boolean(OWNER, "batch_norm", v),
    "residual": lambda v: boolean(OWNER, "residual", v),
    "dropout": lambda v: rate(OWNER, "dropout", v, hi_open=True),
    "l2": lambda v: nonneg(OWNER, "l2", v),
    "output": lambda v: _choice("output", v, OUTPUTS),
    "optimizer": lambda v: _snake_name(_optimizers(), v, "optimizer"),
    "learning_rate": _learning_rate,
    "clipnorm": _clipnorm,
    "batch_size": lambda v: integer(OWNER, "batch_size", v, 1),
    "epochs": lambda v: integer(OWNER, "epochs", v, 0),
    "target": lambda v: in_range(OWNER, "target", v, 0.0, 1.0),
    "seed": lambda v: integer(OWNER, "seed", v, 0, 2**32 - 1),
    "train_samples": _train_samples,
    "trace": _trace,
    "trace_every": lambda v: integer(OWNER, "trace_every", v, 1),
    "case": _case,
}


def _activations():
    from ..activations import registry
    return registry


def _activation(value):
    """A registered activation that runs with its defaults (``threshold`` has none)."""
    from .. import activations
    name = _snake_name(_activations(), value, "activation")
    if not activations.entry(name).takes_defaults:
        raise ValueError(f"{OWNER}: activation {name!r} has no defaults (Keras gives it none), "
                         "so it cannot be used by name in a grid")
    return name


def _optimizers():
    from ..optimizers.base import registry
    return registry


def check_keys(keys):
    unknown = [k for k in keys if k not in DEFAULTS]
    if unknown:
        raise ValueError(f"{OWNER}: unknown config key{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(repr, unknown))}; valid keys: {', '.join(KEYS)}")


def canonical(config):
    """The complete, checked, canonical config: defaults filled in, names snake_case."""
    check_keys(config)
    full = dict(DEFAULTS, **config)
    out = {}
    for key in KEYS:
        value = full[key]
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) and key in (
                "dropout", "l2", "learning_rate", "target"):
            value = float(value)
        out[key] = CHECKS[key](value)
    return out


def label(config, keys):
    """``case`` if the config has one, else ``key=value`` for ``keys``, comma-separated."""
    if config.get("case"):
        return config["case"]
    return ",".join(f"{k}={config[k]}" for k in keys) or "all"
