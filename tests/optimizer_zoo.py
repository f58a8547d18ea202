"""One instance of every optimizer with non-default settings (momentum, AMSGrad, weight decay,
centering, l1): the cases the flat-buffer and captured-step tests run each optimizer through."""
import minigrad as mg

OPTIMIZERS = {
    "sgd": lambda: mg.optimizers.SGD(0.05),
    "momentum": lambda: mg.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: mg.optimizers.Adam(1e-2),
    "amsgrad": lambda: mg.optimizers.Adam(1e-2, amsgrad=True),
    "adamw": lambda: mg.optimizers.AdamW(1e-2, weight_decay=0.1),
    "rmsprop": lambda: mg.optimizers.RMSprop(1e-2, momentum=0.5, centered=True),
    "adagrad": lambda: mg.optimizers.Adagrad(0.1),
    "adadelta": lambda: mg.optimizers.Adadelta(1.0),
    "adamax": lambda: mg.optimizers.Adamax(1e-2),
    "nadam": lambda: mg.optimizers.Nadam(1e-2),
    "ftrl": lambda: mg.optimizers.Ftrl(0.1, l1_regularization_strength=0.01),
    "lion": lambda: mg.optimizers.Lion(1e-3),
}

# the zoo plus the update's other settings: clipping (per tensor, global, per value) and a
# learning-rate schedule (the captured-step tests run each of these)
WITH_SETTINGS = {
    **OPTIMIZERS,
    "clipnorm": lambda: mg.optimizers.Adam(1e-2, clipnorm=0.05),
    "global_clipnorm": lambda: mg.optimizers.SGD(0.1, global_clipnorm=0.05),
    "clipvalue": lambda: mg.optimizers.RMSprop(1e-2, clipvalue=0.01),
    "schedule": lambda: mg.optimizers.SGD(
        mg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)),
}
