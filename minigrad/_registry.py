"""One place that turns identifiers (strings, classes, instances, callables) into objects.

Layers, optimizers, losses, metrics, initializers, regularizers, constraints and
activations all resolve names here, so every unknown name raises the same kind of error,
listing the valid names.
"""

from . import _checks


def canonical(name):
    """Lower-case and drop underscores: "GlorotUniform" and "glorot_uniform" match."""
    return name.replace("_", "").lower()


class Configurable:
    """The config protocol shared by initializers, regularizers and constraints:
    ``get_config()`` (the constructor's arguments), ``from_config`` and a repr from it."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Registry:
    """A table of name -> factory for one kind of object ("optimizer", "loss", ...)."""

    def __init__(self, kind):
        self.kind = kind
        self._table = {}
        self._names = []

    def register(self, *names):
        """Decorator: register a class or function under each of ``names``."""
        def deco(obj):
            for n in names:
                self._table[canonical(n)] = obj
                if n not in self._names:
                    self._names.append(n)
            return obj
        return deco

    def names(self):
        """The registered names, in registration order."""
        return list(self._names)

    def lookup(self, name):
        """The registered object for ``name``; KeyError-free: raises ValueError if unknown."""
        obj = self._table.get(canonical(name))
        if obj is None:
            raise ValueError(
                f"Unknown {self.kind} {name!r}; valid names: {', '.join(self._names)}")
        return obj

    def get(self, identifier, instantiate=True):
        """Resolve ``identifier``: None -> None, a string -> the registered object (a class
        is instantiated with no arguments when ``instantiate``), a class -> an instance,
        an instance or a callable -> itself."""
        if identifier is None:
            return None
        if isinstance(identifier, str):
            obj = self.lookup(identifier)
            return obj() if instantiate and isinstance(obj, type) else obj
        if isinstance(identifier, dict) and "class_name" in identifier:
            cls = self.lookup(identifier["class_name"])
            return cls.from_config(identifier.get("config", {}))
        if isinstance(identifier, type):
            return identifier() if instantiate else identifier
        if callable(identifier):
            return identifier
        raise TypeError(
            f"Could not interpret {self.kind} identifier {identifier!r}: expected a name "
            f"({', '.join(self._names)}), a class, an instance or a callable")

    def name_of(self, obj):
        """The first registered name whose object is ``obj`` (or its class), else None."""
        for key, value in self._table.items():
            if value is obj or (isinstance(value, type) and type(obj) is value):
                for n in self._names:
                    if canonical(n) == key:
                        return n
        return None


# how a user's own function is saved: by name, marked, so that loading can never mistake it
# for a built-in of the same name and must find it in ``custom_objects``
CUSTOM = "__custom_object__"


def serialize_with(registry, obj):
    """How a building block is saved: an object with ``get_config`` -> ``{"class_name",
    "config"}``; a registered function or class -> its registered name; any other named
    function -> ``{CUSTOM: name}``; a lambda -> ValueError."""
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    name = registry.name_of(obj)
    if name:
        return name
    name = _checks.callable_name(f"Cannot serialize the {registry.kind}", obj, registry.kind)
    if getattr(obj, "__module__", "").startswith("minigrad."):
        return name          # a built-in function of minigrad (e.g. losses.mean_squared_error)
    return {CUSTOM: registered_name(obj) or name}


# register_keras_serializable's table: "Package>Name" -> object (get_custom_objects() returns it)
GLOBAL_CUSTOM_OBJECTS = {}


def registered_name(obj):
    """The name ``obj`` is saved under: its "Package>Name" when registered, else its class
    name (for an instance) or ``__name__``."""
    target = obj if isinstance(obj, type) or not hasattr(obj, "get_config") else type(obj)
    key = getattr(target, "_registered_name", None)
    if key and GLOBAL_CUSTOM_OBJECTS.get(key) is target:
        return key
    return target.__name__ if isinstance(target, type) else getattr(obj, "__name__", None)


def lookup_custom(name, custom_objects=None):
    """THE custom-object resolver: ``custom_objects[name]`` first, then the objects registered
    with ``register_keras_serializable`` (by "Package>Name", or by the bare name when one
    registration has it); None when nothing matches."""
    if not isinstance(name, str):
        return None
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if custom_objects and ">" in name and name.split(">", 1)[1] in custom_objects:
        return custom_objects[name.split(">", 1)[1]]
    if name in GLOBAL_CUSTOM_OBJECTS:
        return GLOBAL_CUSTOM_OBJECTS[name]
    found = [obj for key, obj in GLOBAL_CUSTOM_OBJECTS.items() if key.split(">", 1)[-1] == name]
    return found[0] if len(found) == 1 else None


def resolve_custom(kind, identifier, custom_objects):
    """The object a ``{CUSTOM: name}`` marker stands for; ValueError naming it if absent."""
    name = identifier[CUSTOM]
    obj = lookup_custom(name, custom_objects)
    if obj is None:
        raise ValueError(f"the {kind} {name!r} was saved as a custom object: pass "
                         f"custom_objects={{{name!r}: ...}} or register it with "
                         f"@minigrad.saving.register_keras_serializable()")
    return obj


def resolve_config(value, custom_objects=None, where="config"):
    """A config with every custom object put back: {CUSTOM: name} markers, {"class_name":
    name, "config": ...} dicts of custom classes (rebuilt with ``from_config``) and plain
    strings naming a custom object (as Keras's custom-object scope). "name" keys stay."""
    if isinstance(value, dict):
        if CUSTOM in value:
            return resolve_custom(where, value, custom_objects)
        obj = lookup_custom(value.get("class_name"), custom_objects) \
            if "class_name" in value and "config" in value else None
        if obj is not None and not _is_layer_class(obj):
            cfg = resolve_config(value.get("config") or {}, custom_objects, where)
            return obj.from_config(cfg) if hasattr(obj, "from_config") else obj(**cfg)
        return {k: (v if k in ("name", "class_name") else
                    resolve_config(v, custom_objects, f"{where}.{k}")) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_config(v, custom_objects, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and custom_objects and value in custom_objects:
        return custom_objects[value]
    return value


def _is_layer_class(obj):
    # a nested layer config stays a dict: layers.deserialize rebuilds it (and builds it)
    return isinstance(obj, type) and any(c.__name__ == "Layer" for c in obj.__mro__)


def deserialize_with(registry, identifier, custom_objects=None):
    """Inverse of ``serialize_with``: ``custom_objects`` (name -> object) is searched first,
    then the registry; an unknown name raises ValueError listing the valid names."""
    if isinstance(identifier, dict) and CUSTOM in identifier:
        return resolve_custom(registry.kind, identifier, custom_objects)
    key = identifier.get("class_name") if isinstance(identifier, dict) else identifier
    obj = lookup_custom(key, custom_objects)
    if obj is not None:
        if isinstance(identifier, dict):
            return obj.from_config(identifier.get("config", {}))
        return obj() if isinstance(obj, type) else obj
    try:
        return registry.get(identifier)
    except ValueError as e:
        raise ValueError(f"{e}; a custom {registry.kind} must be passed in "
                         f"custom_objects") from None
