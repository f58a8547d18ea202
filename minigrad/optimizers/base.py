"""Optimizer base: Keras 3's apply pipeline around one fused kernel call per variable.

``apply_gradients(zip(grads, variables))``: drop the ``None`` gradients, check the rest,
clip (clipnorm per variable, global_clipnorm over all, or clipvalue), read
``lr = schedule(iterations)``, run each variable's fused in-place update (decoupled weight
decay ``w -= w * weight_decay * lr`` first, as Keras 3, then the optimizer's rule), apply
each variable's ``constraint`` in place, then ``iterations += 1``. As in Keras, a variable
whose gradient is None is neither decayed nor updated.

Slots (momenta, accumulators) are created on the first apply (or by ``build``) for every
variable passed, zeros unless the optimizer says otherwise, and kept in a list aligned to
the variables' order; nothing is keyed by ``id()``. A variable is recognised in later calls
by identity (``is``) against that list: a call with a subset or a reordering of the built
variables finds each one's own slots, and a variable never seen before is appended to the
list (its slots are created then, after those of the earlier variables in ``variables``).
"""
import inspect
import math
import operator
import re

import numpy as np

from .. import _alloc, _checks, _flat
from .._kernel import flat
from .._registry import Registry
from ..grad_mode import no_grad
from ..tensor import Tensor, bump_versions
from . import schedules as _schedules

registry = Registry("optimizer")


def _check_clip(owner, name, value):
    return None if value is None else _checks.positive(owner, name, value)


def _takes_step(fn):
    """True if the callable ``fn`` accepts one positional argument (the step)."""
    try:
        inspect.signature(fn).bind(0)
    except (TypeError, ValueError):
        return False
    return True


# ---- clipping (numpy: a temporary per clipped gradient, the user's .grad stays intact) ------
def _sum_squares(g):
    f = flat(g)
    return float(np.dot(f, f))


def clip_by_norm(g, clipnorm):
    """Keras's per-variable clipnorm: ``g * clipnorm / max(||g||_2, clipnorm)``."""
    norm = math.sqrt(_sum_squares(g))
    if norm <= clipnorm:   # the factor is clipnorm / clipnorm == 1
        return g
    out = g * g.dtype.type(clipnorm)   # Keras's order: (g * clipnorm) / norm
    out /= g.dtype.type(norm)
    return out


def clip_by_global_norm(grads, clipnorm):
    """Keras's global_clipnorm: every ``g * clipnorm * min(1/N, 1/clipnorm)`` with
    ``N = sqrt(sum of all squared entries)``; a non-finite N makes every gradient NaN."""
    norm = math.sqrt(sum(_sum_squares(g) for g in grads))
    if norm <= clipnorm:
        return grads
    scale = clipnorm * (1.0 / norm) if math.isfinite(norm) else math.nan
    return [g * g.dtype.type(scale) for g in grads]


class Optimizer:
    """Base class: subclasses define ``_slot_specs``, ``_hyper`` and ``_update``.

    ``_slot_specs()`` -> ((slot name, initial value), ...); ``_hyper(lr, t)`` -> the floats
    the kernel reads (t = iterations + 1), called once per step after every check;
    ``_update(w, g, slots, hp)`` runs the fused kernel on flat contiguous arrays, ``hp`` being
    ``(wd_lr, *those floats)`` in the variable's dtype. ``wd_lr = weight_decay * lr`` (0 when
    there is no weight decay or the variable is excluded): every kernel first applies the
    decoupled decay ``w -= w * wd_lr`` (Keras 3: after clipping, before the update step).
    ``_global_specs()`` -> ((name, initial value), ...) of optimizer-wide float64 scalars
    (Nadam's ``u_product``), created with the first slots and listed after them in
    ``variables``.
    """

    _lr_positive = False   # Ftrl divides by the learning rate

    def __init__(self, learning_rate, lr=None, default_lr=None, *, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        owner = type(self).__name__
        self.name = name if name is not None else owner.lower()
        if lr is not None:
            if learning_rate != default_lr:
                raise ValueError(f"{owner}: pass learning_rate or its alias lr, not both "
                                 f"(got learning_rate={learning_rate!r}, lr={lr!r})")
            learning_rate = lr
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue,
                 "global_clipnorm": global_clipnorm}
        given = [k for k, v in clips.items() if v is not None]
        if len(given) > 1:
            raise ValueError(f"{owner}: at most one of clipnorm, clipvalue and global_clipnorm "
                             f"may be set; got {', '.join(f'{k}={clips[k]!r}' for k in given)}")
        self.clipnorm = _check_clip(owner, "clipnorm", clipnorm)
        self.clipvalue = _check_clip(owner, "clipvalue", clipvalue)
        self.global_clipnorm = _check_clip(owner, "global_clipnorm", global_clipnorm)
        self.weight_decay = (None if weight_decay is None
                             else _checks.nonneg(owner, "weight_decay", weight_decay))
        self._exclude_vars = ()       # exclude_from_weight_decay(var_list=...)
        self._exclude_pattern = None  # exclude_from_weight_decay(var_names=...)
        self.iterations = 0
        self._vars = []     # the built variables, in order
        self._shapes = []   # their shapes and dtypes when built
        self._dtypes = []
        self._slots = []    # per variable: its flat slot arrays, in _slot_specs() order
        self._decays = []   # per variable: True unless excluded from weight decay
        self._globals = []  # optimizer-wide 0-d float64 state, once built
        self._packs = []    # (_flat.Pack, [variable indices]) per dtype of each build
        self._set_lr(learning_rate)

    # ---- learning rate ----------------------------------------------------------------------
    def _set_lr(self, value):
        if isinstance(value, _schedules.LearningRateSchedule):
            self._lr, self._lr_takes_step = value, True
        elif callable(value):
            self._lr, self._lr_takes_step = value, _takes_step(value)
        elif self._lr_positive:
            self._lr = _checks.positive(type(self).__name__, "learning_rate", value)
        else:
            self._lr = _checks.nonneg(type(self).__name__, "learning_rate", value)

    @property
    def learning_rate(self):
        """The learning rate for the next step, a float. Assign a float, a schedule or a
        callable; a float cannot replace a schedule or callable (TypeError, as Keras)."""
        return self._current_lr()

    @learning_rate.setter
    def learning_rate(self, value):
        if not callable(value) and type(self._lr) is not float:
            raise TypeError(
                f"{type(self).__name__}: the learning rate is the schedule {self._lr!r}, so it "
                f"cannot be set to {value!r}; create the optimizer with a float learning_rate "
                f"to make it settable")
        self._set_lr(value)

    def _current_lr(self):
        lr = self._lr
        if type(lr) is float:
            return lr
        step = self.iterations
        value = lr(step) if self._lr_takes_step else lr()
        value = float(value)
        if not (math.isfinite(value) and (value > 0 or (value == 0 and not self._lr_positive))):
            raise ValueError(f"{type(self).__name__}: the learning rate {lr!r} gave {value!r} "
                             f"at step {step}; expected a finite value "
                             f"{'> 0' if self._lr_positive else '>= 0'}")
        return value

    # ---- weight decay -----------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Keras 3: no weight decay for the variables in ``var_list`` (by identity) nor for
        those whose ``name`` contains a match of one of the regular expressions
        ``var_names`` (``re.search``, e.g. ``["bias"]``). Each call replaces the previous
        exclusions and applies from the next step on, also to variables already built (Keras
        documents "before build" but never enforces it: its check reads an unset flag)."""
        names = list(var_names or ())
        for k, n in enumerate(names):
            if not isinstance(n, str):
                raise TypeError(f"{type(self).__name__}.exclude_from_weight_decay: "
                                f"var_names[{k}] must be a string, got {n!r}")
        self._exclude_vars = tuple(var_list or ())
        self._exclude_pattern = re.compile("|".join(names)) if names else None
        self._decays = [self._uses_weight_decay(v) for v in self._vars]

    def _uses_weight_decay(self, var):
        if any(v is var for v in self._exclude_vars):
            return False
        name = getattr(var, "name", None)
        return not (self._exclude_pattern is not None and isinstance(name, str)
                    and self._exclude_pattern.search(name))

    # ---- variables and slots ----------------------------------------------------------------
    def _check_variable(self, var, k):
        if not isinstance(var, Tensor) or not var.requires_grad:
            what = (f"a Tensor with requires_grad=False ({var!r})" if isinstance(var, Tensor)
                    else f"a {type(var).__name__}")
            raise TypeError(f"{type(self).__name__}: variable #{k} is {what}; expected a "
                            f"Tensor or Parameter that requires grad")

    def _add_variable(self, var):
        self._vars.append(var)
        self._shapes.append(var.data.shape)
        self._dtypes.append(var.data.dtype)
        # staggered: the slots must not share cache sets with the weight and gradient
        self._slots.append([_alloc.full(var.data.size, init, var.data.dtype)
                            for _, init in self._slot_specs()])
        self._decays.append(self._uses_weight_decay(var))
        if len(self._vars) == 1:
            self._globals = [np.array(init, dtype=np.float64) for _, init in self._global_specs()]
        return len(self._vars) - 1

    def _indices(self, variables):
        """Position of each variable in the built list (checking and appending new ones)."""
        known = self._vars
        if len(variables) == len(known) and all(map(operator.is_, variables, known)):
            return range(len(known))
        out, new = [], []
        for k, var in enumerate(variables):
            self._check_variable(var, k)
            i = next((j for j, b in enumerate(known) if b is var), None)
            if i is None:
                i = self._add_variable(var)
                new.append(i)
            out.append(i)
        if new:
            self._pack(new)
        return out

    def _pack(self, indices):
        """Move the new variables ``indices`` into flat buffers, one pack per dtype (see
        ``minigrad._flat``); a variable another optimizer packed stays where it is."""
        groups = {}
        for i in indices:
            if _flat.packable(self._vars[i]):
                groups.setdefault(self._vars[i].data.dtype, []).append(i)
        for members in groups.values():
            # the slots were initialised by _add_variable; the pack takes their values over
            pack = _flat.Pack([self._vars[i] for i in members], [self._slots[i] for i in members])
            for j, i in enumerate(members):
                self._slots[i] = pack.slot_views(j)
            self._packs.append((pack, members))

    def build(self, variables):
        """Create the slots of every variable not built yet (zeros unless stated)."""
        self._indices(list(variables))

    @property
    def variables(self):
        """``[iterations, *slots, *globals]``: a 0-d int64 array, then copies of the slot
        arrays, variable by variable (build order), each variable's slots in slot-name order,
        then (once built) the optimizer-wide scalars such as Nadam's ``u_product``."""
        out = [np.array(self.iterations, dtype=np.int64)]
        for shape, slots in zip(self._shapes, self._slots):
            out.extend(s.reshape(shape).copy() for s in slots)
        out.extend(g.copy() for g in self._globals)
        return out

    def _state_targets(self):
        names = [name for name, _ in self._slot_specs()]
        targets = [("iterations", (), None)]
        for i, (var, shape, slots) in enumerate(zip(self._vars, self._shapes, self._slots)):
            targets.extend((f"slot {n!r} of variable #{i} ({getattr(var, 'name', None)!r})",
                            shape, s) for n, s in zip(names, slots))
        targets.extend((f"optimizer state {n!r}", (), g)
                       for (n, _), g in zip(self._global_specs(), self._globals))
        return targets

    def set_state(self, arrays):
        """Restore ``variables`` (same count, order and shapes); build the optimizer on the
        same variables first. Checks everything before writing anything."""
        arrays = [np.asarray(a) for a in arrays]
        targets = self._state_targets()
        owner = type(self).__name__
        if len(arrays) != len(targets):
            raise ValueError(
                f"{owner}.set_state: got {len(arrays)} arrays, expected {len(targets)} "
                f"(iterations + {len(targets) - 1} state arrays for {len(self._vars)} built "
                f"variables; call build(variables) before set_state)")
        for k, (a, (label, shape, _)) in enumerate(zip(arrays, targets)):
            if a.shape != shape:
                raise ValueError(f"{owner}.set_state: array {k} ({label}) has shape "
                                 f"{a.shape}, expected {shape}")
            if k and a.dtype.kind not in "iuf":
                raise ValueError(f"{owner}.set_state: array {k} ({label}) has dtype "
                                 f"{a.dtype}, expected a float array")
        if arrays[0].dtype.kind not in "iu" or int(arrays[0]) < 0:
            raise ValueError(f"{owner}.set_state: array 0 (iterations) must be a "
                             f"non-negative integer, got {arrays[0]!r}")
        self.iterations = int(arrays[0])
        for a, (_, _, slot) in zip(arrays[1:], targets[1:]):
            np.copyto(slot, a.reshape(slot.shape), casting="same_kind")

    # ---- the step ---------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply ``(gradient, variable)`` pairs; gradients are ndarrays, Tensors or None
        (skipped). Returns ``iterations``."""
        pairs = list(grads_and_vars)
        if pairs:
            self._apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """Keras 3's ``optimizer.apply(grads, trainable_variables=None)``: the gradients in
        the order of ``trainable_variables`` (default: the variables built so far).
        Returns ``iterations``."""
        grads = list(grads)
        if trainable_variables is None:
            if not self._vars:
                raise ValueError(f"{type(self).__name__}.apply: no trainable_variables given "
                                 f"and none built; pass trainable_variables=")
            trainable_variables = self._vars
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: {len(grads)} gradients for "
                             f"{len(variables)} variables")
        return self.apply_gradients(zip(grads, variables))

    def step(self, variables=None):
        """One update of ``variables`` (default: the built ones) from their ``.grad``."""
        if variables is None and not self._vars:
            raise ValueError(f"{type(self).__name__}.step: no variables given and none built; "
                             f"call step(variables)")
        variables = self._vars if variables is None else list(variables)
        if variables:
            self._apply([getattr(v, "grad", None) for v in variables], variables)
        return self.iterations

    def _checked(self, grads, variables):
        """[(variable index, variable, gradient)] for the non-None gradients, everything
        checked before anything is written."""
        indices = self._indices(variables)
        shapes, dtypes = self._shapes, self._dtypes
        todo = []
        for k, (i, var, g) in enumerate(zip(indices, variables, grads)):
            if not var.requires_grad:
                self._check_variable(var, k)
            if g is None:
                continue
            if type(g) is not np.ndarray:
                g = self._as_array(g, var, k)
            w, shape, dtype = var.data, shapes[i], dtypes[i]
            # dtypes are compared by identity first: ``!=`` on dtypes costs ~0.1 us
            if (g.shape != shape or w.shape != shape
                    or (g.dtype is not dtype and g.dtype != dtype)
                    or (w.dtype is not dtype and w.dtype != dtype)):
                self._bad_gradient(g, var, k, i)
            todo.append((i, var, g))
        if not todo:
            raise ValueError(f"{type(self).__name__}: no gradient was provided for any of "
                             f"the {len(variables)} variables (all are None)")
        return todo

    def _apply(self, grads, variables):
        todo = self._checked(grads, variables)
        gs = self._clip([g for _, _, g in todo])
        hyper = self._step_hyper()
        hp_by_key = {}
        update, all_slots, decays = self._update, self._slots, self._decays
        pairs = zip(todo, gs)
        if self._packs:
            pairs = self._apply_packs(todo, gs, hyper, hp_by_key)
        for (i, var, _), g in pairs:
            w = var.data
            var.bump_version()   # updated in place below (constraints too): saved graphs stale
            hp = _hp(hp_by_key, w.dtype, decays[i], hyper)
            slots = all_slots[i]
            gf = g.reshape(-1) if g.flags.c_contiguous else np.ascontiguousarray(g).reshape(-1)
            if w.flags.c_contiguous:
                update(w.reshape(-1), gf, slots, hp)
            else:   # the kernel needs a flat array: update a copy, write it back
                wf = np.ascontiguousarray(w).reshape(-1)
                update(wf, gf, slots, hp)
                w[...] = wf.reshape(w.shape)
        constrained = [var for _, var, _ in todo if getattr(var, "constraint", None) is not None]
        if constrained:
            self._apply_constraints(constrained)
        self.iterations += 1

    def _step_hyper(self):
        """(weight decay * lr, *the optimizer's hyper-parameters) of this step."""
        lr = self._current_lr()
        wd_lr = 0.0 if self.weight_decay is None else self.weight_decay * lr
        return (wd_lr, *self._hyper(lr, self.iterations + 1))

    def _run_pack(self, pack, members, hp):
        """One kernel call updates every variable of ``pack`` (multi-tensor apply)."""
        all_vars = self._vars
        bump_versions([all_vars[i] for i in members])
        self._update(pack.params, pack.grads, pack.slots, hp)

    def _apply_packs(self, todo, gs, hyper, hp_by_key):
        """One kernel call per pack whose every variable has its gradient this step (in its
        view, or copied there), still lives in its view and shares one weight-decay choice;
        returns the (entry, gradient) pairs left to update one by one."""
        by_index = {entry[0]: (entry, g) for entry, g in zip(todo, gs)}
        decays = self._decays
        for pack, members in self._packs:
            if any(i not in by_index for i in members):
                continue
            decay = decays[members[0]]
            ok = all(decays[i] == decay for i in members)
            for j, i in enumerate(members):
                if not ok:
                    break
                (_, var, _), g = by_index[i]
                ok = var.data is pack.pviews[j]
                if ok and g is not pack.gviews[j]:
                    ok = _flat.view_free(pack, j)
                    if ok:
                        np.copyto(pack.gviews[j], g)
            if not ok:
                continue
            for i in members:
                del by_index[i]
            self._run_pack(pack, members, _hp(hp_by_key, pack.params.dtype, decay, hyper))
        return [by_index[entry[0]] for entry in todo if entry[0] in by_index]

    def _apply_captured(self, variables):
        """The optimizer step of a captured training step (``models/capture.py``), when every
        gradient already sits in its pack's view: ``_apply`` without its per-variable checks
        (the capture's signature fixed the shapes and dtypes), the same kernels and
        hyper-parameters in the same order. Returns False, changing nothing, unless the packs
        cover exactly ``variables`` and no clipping, constraint or mixed weight decay is in
        play (the caller then runs ``apply_gradients``)."""
        if not self._packs_cover(variables):
            return False
        self._run_packs()
        return True

    def _apply_replayed(self, variables):
        """The optimizer step of a step replayed at the ops (``models/tape.py``): as
        ``_apply_captured``, once each gradient is in its pack's view (an op that did not
        write it there has its array copied in, as ``_apply_packs`` does). Returns False,
        changing nothing, when a gradient is missing, does not fit, or its view is held
        elsewhere (the caller then runs ``apply_gradients``)."""
        if not self._packs_cover(variables):
            return False
        copies = []
        for var in variables:
            g = var.grad
            pack, j = _flat.pack_of(var)
            if g is None or pack is None or var.data is not pack.pviews[j]:
                return False
            view = pack.gviews[j]
            if g is not view:
                if type(g) is not np.ndarray or g.shape != view.shape or \
                        g.dtype != view.dtype or not _flat.view_free(pack, j):
                    return False
                copies.append((view, g))
        for view, g in copies:
            np.copyto(view, g)
        self._run_packs()
        return True

    def _packs_cover(self, variables):
        """True when the packs hold exactly ``variables``, one weight-decay choice per pack,
        and no clipping or constraint is in play: an update is then one kernel per pack."""
        if self.clipnorm is not None or self.clipvalue is not None or \
                self.global_clipnorm is not None or len(self._vars) != len(variables):
            return False
        decays, packs = self._decays, self._packs
        if sum(len(m) for _, m in packs) != len(variables):
            return False
        for _pack, members in packs:
            first = decays[members[0]]
            if any(decays[i] != first for i in members):
                return False
        return all(var.constraint is None for var in variables)

    def _run_packs(self):
        decays = self._decays
        hyper = self._step_hyper()
        hp_by_key = {}
        for pack, members in self._packs:
            self._run_pack(pack, members,
                           _hp(hp_by_key, pack.params.dtype, decays[members[0]], hyper))
        self.iterations += 1

    def _as_array(self, g, var, k):
        if isinstance(g, Tensor):
            return g.data
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{type(self).__name__}: the gradient for variable #{k} "
                            f"({getattr(var, 'name', None)!r}) is a {type(g).__name__}; "
                            f"expected an ndarray or a Tensor")
        return g

    def _bad_gradient(self, g, var, k, i):
        name = getattr(var, "name", None)
        w, who = var.data, f"variable #{k}" + (f" ({name!r})" if name else "")
        if g.shape != w.shape or g.dtype != w.dtype:
            raise ValueError(
                f"{type(self).__name__}: the gradient for {who} has shape {g.shape} and dtype "
                f"{g.dtype}; expected the variable's shape {w.shape} and dtype {w.dtype}")
        raise ValueError(
            f"{type(self).__name__}: {who} now has shape {w.shape} and dtype {w.dtype}, but "
            f"its slots were built for shape {self._shapes[i]} and dtype {self._dtypes[i]}")

    def _clip(self, grads):
        if self.clipnorm is not None:
            return [clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _apply_constraints(self, variables):
        with no_grad():
            for var in variables:
                constraint = var.constraint
                new = constraint(var.data)
                new = new.data if isinstance(new, Tensor) else np.asarray(new)
                if new.shape != var.data.shape:
                    raise ValueError(
                        f"{type(self).__name__}: the constraint {constraint!r} of "
                        f"{getattr(var, 'name', None)!r} returned shape {new.shape}, "
                        f"expected {var.data.shape}")
                np.copyto(var.data, new, casting="same_kind")

    # ---- config -----------------------------------------------------------------------------
    def _lr_config(self):
        lr = self._lr
        if type(lr) is float:
            return lr
        if isinstance(lr, _schedules.LearningRateSchedule):
            return _schedules.serialize(lr)
        return _checks.callable_name(f"{type(self).__name__}.get_config", lr,
                                     "learning-rate callable (or use a schedule from "
                                     "minigrad.optimizers.schedules)")

    def get_config(self):
        """The constructor arguments (a schedule as ``{"class_name", "config"}``, a named
        function learning rate as its name)."""
        return {"name": self.name, "learning_rate": self._lr_config(),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from ``get_config()``. On the base class, pass ``{"class_name",
        "config"}`` (``serialize``'s output) so the subclass is known."""
        if cls is Optimizer:
            if "class_name" not in config:
                raise ValueError("Optimizer.from_config: the base class needs "
                                 "{'class_name': ..., 'config': ...}; or call the concrete "
                                 "class's from_config (e.g. Adam.from_config)")
            name = config["class_name"]
            sub = name if isinstance(name, type) else (
                (custom_objects or {}).get(name) or registry.lookup(name))
            return sub.from_config(config.get("config", {}), custom_objects)
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _schedules.deserialize(lr, custom_objects)
        elif isinstance(lr, str):
            fn = (custom_objects or {}).get(lr)
            if fn is None:
                raise ValueError(f"{cls.__name__}.from_config: the learning rate is the "
                                 f"function {lr!r}; pass it as custom_objects={{{lr!r}: fn}}")
            config["learning_rate"] = fn
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} iterations={self.iterations}>"

    # ---- subclass interface ----------------------------------------------------------------
    def _slot_specs(self):
        return ()

    def _global_specs(self):
        return ()

    def _hyper(self, lr, t):
        raise NotImplementedError

    def _update(self, w, g, slots, hp):
        raise NotImplementedError


def _hp(hp_by_key, dtype, decay, hyper):
    """The kernels' hyper-parameter vector (weight decay * lr or 0, *hyper) in ``dtype``, made
    once per (dtype, decay) and step."""
    key = (dtype, decay)
    hp = hp_by_key.get(key)
    if hp is None:
        hp = hp_by_key[key] = np.array((hyper[0] if decay else 0.0, *hyper[1:]), dtype=dtype)
    return hp
