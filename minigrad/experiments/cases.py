"""The lecture's vanishing/exploding-gradient cases, defined once: ``gradients --compare`` runs
them through ``run_grid``, and a reproduction of the lecture's study reuses them.

Each case is a label and the config keys that differ from the defaults (API §11)."""

LECTURE_CASES = (
    ("sigmoid + glorot_uniform", {"activation": "sigmoid", "initializer": "glorot_uniform"}),
    ("sigmoid + normal:1.0", {"activation": "sigmoid", "initializer": "normal:1.0"}),
    ("tanh + glorot_uniform", {"activation": "tanh", "initializer": "glorot_uniform"}),
    ("relu + he_normal", {"activation": "relu", "initializer": "he_normal"}),
    ("leaky_relu + he_normal", {"activation": "leaky_relu", "initializer": "he_normal"}),
    ("elu + he_normal", {"activation": "elu", "initializer": "he_normal"}),
    ("selu + lecun_normal", {"activation": "selu", "initializer": "lecun_normal"}),
    ("sigmoid + batch norm", {"activation": "sigmoid", "initializer": "glorot_uniform",
                              "batch_norm": True}),
    ("relu + normal:1.0", {"activation": "relu", "initializer": "normal:1.0"}),
    ("relu + normal:1.0 + clip 1", {"activation": "relu", "initializer": "normal:1.0",
                                    "clipnorm": 1.0}),
)
RESIDUAL_CASES = (
    ("sigmoid + residual", {"activation": "sigmoid", "initializer": "glorot_uniform",
                            "residual": True}),
)
# the keys a case fixes: the command line may not set them beside --compare
CASE_KEYS = ("activation", "initializer", "batch_norm", "clipnorm", "residual")


def lecture_cases(residual=True):
    """``[(label, overrides)]``: the lecture's cases, plus "sigmoid + residual" (skip
    connections around every hidden layer but the first) when ``residual``."""
    return list(LECTURE_CASES) + (list(RESIDUAL_CASES) if residual else [])


def case_grid(cases, seeds, **common):
    """A list of config dicts: every case over ``seeds`` (an int n = range(n), or a list),
    with ``common`` keys (depth, width, epochs, ...) fixed; each config carries its case."""
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    return [dict(common, **overrides, case=name, seed=seeds) for name, overrides in cases]
