"""Functional models: ``Model(inputs, outputs)`` over the graph of symbolic layer calls.

Construction walks back from the outputs through the recorded ``Node``s (layer calls on
symbolic tensors) to the inputs and keeps the nodes in topological order; a call runs them in
that order, each layer on the values its node's inputs took in this call. Shared layers (one
layer, several nodes), merges and nested models (a model called on symbolic tensors is one
node) need nothing special. The layers are listed inputs first, then in the order of their
first node.

A ``minigrad.ops`` function or a tensor operator applied to symbolic tensors is an op node
(``layers/op_node.py``): its ``Operation`` is among the model's ``_operations`` (summary,
config) but not among its ``layers``, as Keras's ``Functional.layers`` lists only Layers.
"""
from ..layers import op_node
from ..layers.base import Layer, unique_name
from ..layers.input_layer import InputLayer
from ..layers.symbolic import KerasTensor, flatten, map_structure
from . import structure
from .model import Model


class Functional(Model):
    """A model defined by its symbolic inputs and outputs (lists or dicts allowed)."""

    _wrap_build = False

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name or unique_name("functional"), trainable=trainable,
                       **kwargs)
        self._input_struct = _as_structure(inputs, "inputs", self.name)
        self._output_struct = _as_structure(outputs, "outputs", self.name)
        self._flat_inputs = flatten(self._input_struct)
        self._flat_outputs = flatten(self._output_struct)
        self._nodes = _topological_nodes(self)
        input_layers = [t.node.layer for t in self._flat_inputs]
        operations = list(input_layers)
        for node in self._nodes:
            if all(node.layer is not other for other in operations):
                operations.append(node.layer)
        _check_unique_names(self, operations)
        # internal lists of layers: set past the attribute tracking (they are not attributes
        # a user assigned, and _layers reads _layer_list itself)
        object.__setattr__(self, "_operations", operations)
        object.__setattr__(self, "_layer_list", [op for op in operations
                                                 if isinstance(op, Layer)])
        # an op node's plan entry has single_in None: it runs on its inputs' values in order
        plan = [(n.layer, n.inputs, [id(t) for t in n.flat_outputs], n.training,
                 isinstance(n.inputs, KerasTensor) if isinstance(n.layer, Layer) else None,
                 isinstance(n.outputs, KerasTensor))
                for n in self._nodes]
        object.__setattr__(self, "_plan", plan)
        self.dtype = self._flat_inputs[0].dtype
        shapes = [tuple(t.shape) for t in self._flat_inputs]
        self._build_shape = shapes[0] if isinstance(self._input_struct, KerasTensor) else shapes
        self.built = True

    # ---- structure --------------------------------------------------------------------
    @property
    def inputs(self):
        return list(self._flat_inputs)

    @property
    def outputs(self):
        return list(self._flat_outputs)

    @property
    def input(self):
        """The symbolic input(s) as given to ``Model`` (a tensor, a list or a dict)."""
        return self._input_struct

    @property
    def output(self):
        return self._output_struct

    @property
    def input_names(self):
        return [t.node.layer.name for t in self._flat_inputs]

    @property
    def output_names(self):
        """One name per output: the dict key, else the name of the layer that made it."""
        if isinstance(self._output_struct, dict):
            return list(self._output_struct)
        return [t.node.layer.name for t in self._flat_outputs]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._flat_inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._flat_outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def build(self, input_shape=None):
        """A functional model is built when it is made; this only checks nothing is asked
        of it that contradicts its inputs."""

    def compute_output_shape(self, input_shape):
        return self.output_shape

    def _ordered_children(self):
        return self._layer_list

    # ---- forward ----------------------------------------------------------------------
    def call(self, inputs, training=False):
        values = {}
        for t, x in zip(self._flat_inputs, self._match_inputs(inputs)):
            values[id(t)] = x
        for layer, args, out_ids, node_training, single_in, single_out in self._plan:
            if single_in is None:
                y = layer.run([values[id(t)] for t in args])
            else:
                x = values[id(args)] if single_in else \
                    map_structure(lambda t: values[id(t)], args)
                y = layer(x, training=training if node_training is None else node_training)
            if single_out:
                values[out_ids[0]] = y
            else:
                for i, v in zip(out_ids, flatten(y)):
                    values[i] = v
        out = self._output_struct
        if isinstance(out, list) and len(out) == 1:   # Keras's unpack_singleton
            return values[id(out[0])]
        return map_structure(lambda t: values[id(t)], out)

    def _match_inputs(self, inputs):
        """The call's inputs in the order of ``self._flat_inputs`` (a dict by input name)."""
        n = len(self._flat_inputs)
        if isinstance(inputs, dict):
            names = self.input_names if not isinstance(self._input_struct, dict) else \
                list(self._input_struct)
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(f"model {self.name!r}: inputs {missing} are missing; expected "
                                 f"a dict with keys {names}, got {sorted(inputs)}")
            return [inputs[k] for k in names]
        flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != n:
            raise ValueError(f"model {self.name!r} expects {n} input(s) "
                             f"({self.input_names}), got {len(flat)}")
        return flat

    def _prepare_x(self, x, where):
        if len(self._flat_inputs) == 1:
            if isinstance(x, dict) and len(x) == 1:
                x = next(iter(x.values()))
            elif isinstance(x, (list, tuple)) and len(x) == 1:
                x = x[0]
            return super()._prepare_x(x, where)
        one = self._prepare_one_x
        names = list(self._input_struct) if isinstance(self._input_struct, dict) \
            else self.input_names
        return structure.prepare_many(self, x, names,
                                      [t.shape[1:] for t in self._flat_inputs], where, "input",
                                      lambda a, shape, label: one(a, shape, where, label))

    # ---- configuration ----------------------------------------------------------------
    def get_config(self):
        """Keras's functional config: every layer with the calls (nodes) it makes in this
        model, each input named ``[layer name, node index, tensor index]``."""
        from ..layers import serialize
        node_index = {}
        for node in self._nodes:
            node_index[id(node)] = sum(1 for m in self._nodes
                                       if m.layer is node.layer and id(m) in node_index)
        for t in self._flat_inputs:
            node_index[id(t.node)] = 0

        def ref(t):
            return [t.node.layer.name, node_index[id(t.node)], t.index]

        layers = []
        for layer in self._operations:
            if isinstance(layer, op_node.Operation):
                layers.append(op_node.get_spec(layer, ref))
                continue
            spec = serialize(layer)
            spec.pop("build_config", None)
            spec["name"] = layer.name
            spec["inbound_nodes"] = [
                {"args": map_structure(ref, _listify(n.inputs)), "training": n.training}
                for n in self._nodes if n.layer is layer]
            layers.append(spec)
        return {"name": self.name, "trainable": self._trainable, "layers": layers,
                "input_layers": map_structure(ref, _listify(self._input_struct)),
                "output_layers": map_structure(ref, _listify(self._output_struct))}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the layers and replay their calls (shared layers: one per node)."""
        from ..layers import deserialize
        made, outputs = {}, {}   # layer name -> layer; (name, node) -> output structure
        pending = []
        for spec in config["layers"]:
            if op_node.is_op_spec(spec):
                pending += [(spec["name"], 0, dict(node, op_spec=spec))
                            for node in spec.get("inbound_nodes", [])[:1]]
                continue
            layer = deserialize({"class_name": spec["class_name"], "config": spec["config"]},
                                custom_objects)
            made[spec["name"]] = layer
            if isinstance(layer, InputLayer):
                outputs[(spec["name"], 0)] = layer.output
            pending += [(spec["name"], k, node) for k, node in enumerate(spec["inbound_nodes"])]
        while pending:
            waiting = []
            for name, k, node in pending:
                refs = op_node.refs_of(node) if "op_spec" in node else _refs(node["args"])
                if not all((r[0], r[1]) in outputs for r in refs):
                    waiting.append((name, k, node))
                    continue
                if "op_spec" in node:
                    outputs[(name, k)] = op_node.replay(
                        node["op_spec"], node,
                        lambda r: _pick(outputs[(r[0], r[1])], r[2]))
                    continue
                args = _map_refs(lambda r: _pick(outputs[(r[0], r[1])], r[2]), node["args"])
                outputs[(name, k)] = made[name](args, training=node.get("training"))
            if len(waiting) == len(pending):
                raise ValueError(f"load: the functional config of {config.get('name')!r} has "
                                 f"calls whose inputs are never produced: {waiting}")
            pending = waiting

        def resolve(struct):
            return _map_refs(lambda r: _pick(outputs[(r[0], r[1])], r[2]), struct)
        return cls(resolve(config["input_layers"]), resolve(config["output_layers"]),
                   name=config.get("name"), trainable=config.get("trainable", True))


# ---- helpers ------------------------------------------------------------------------------
def _as_structure(value, what, name):
    if isinstance(value, KerasTensor):
        return value
    if isinstance(value, (list, tuple, dict)) and value:
        leaves = flatten(value)
        if all(isinstance(t, KerasTensor) for t in leaves):
            return list(value) if isinstance(value, tuple) else value
    raise TypeError(f"Model {name!r}: {what} must be a symbolic tensor (from Input or a layer "
                    f"called on one), or a non-empty list or dict of them; got {value!r}")


def _topological_nodes(model):
    """The nodes between the model's inputs and outputs, each after the nodes it reads."""
    input_ids = {id(t) for t in model._flat_inputs}
    for t in model._flat_inputs:   # a graph-structure error, not a wrong argument type
        if not isinstance(t.node.layer, InputLayer):
            raise ValueError(f"Model {model.name!r}: input {t.name!r} is not an "  # noqa: TRY004
                             f"Input: every input must be a tensor returned by "
                             f"minigrad.Input(...)")
    order, state, reached = [], {}, set()
    for out in model._flat_outputs:
        stack = [(out, False)]
        while stack:
            t, done = stack.pop()
            if id(t) in input_ids:
                reached.add(id(t))
                continue
            node = t.node
            if done:
                if state.get(id(node)) != 2:
                    state[id(node)] = 2
                    order.append(node)
                continue
            if state.get(id(node)):
                continue
            if isinstance(node.layer, InputLayer):   # the graph is disconnected
                raise ValueError(f"Model {model.name!r}: the outputs depend on the "  # noqa: TRY004
                                 f"Input "
                                 f"{node.layer.name!r} (shape {t.shape}), which is not among "
                                 f"the model's inputs {model.input_names}: the graph is "
                                 f"disconnected; pass it in inputs=")
            state[id(node)] = 1
            stack.append((t, True))
            stack.extend((p, False) for p in reversed(node.flat_inputs))
    unused = [t.name for t in model._flat_inputs if id(t) not in reached]
    if unused:
        raise ValueError(f"Model {model.name!r}: input(s) {unused} are disconnected: no output "
                         f"depends on them; remove them from inputs= or use them")
    return order


def _check_unique_names(model, layers):
    seen = {}
    for layer in layers:
        if layer.name in seen:
            raise ValueError(f"Model {model.name!r}: duplicate layer name {layer.name!r} (two "
                             f"different layers are named so); all layer names in a model "
                             f"must be unique: pass name= to tell them apart")
        seen[layer.name] = layer


def _listify(struct):
    """A structure with tuples as lists (JSON has no tuples); one tensor stays one."""
    if isinstance(struct, (list, tuple)):
        return [_listify(s) for s in struct]
    if isinstance(struct, dict):
        return {k: _listify(v) for k, v in struct.items()}
    return struct


def _is_ref(value):
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and \
        isinstance(value[1], int) and isinstance(value[2], int)


def _map_refs(fn, struct):
    """``fn`` applied to every saved reference ``[name, node, index]`` of a structure."""
    if _is_ref(struct):
        return fn(struct)
    if isinstance(struct, list):
        return [_map_refs(fn, s) for s in struct]
    if isinstance(struct, dict):
        return {k: _map_refs(fn, v) for k, v in struct.items()}
    raise ValueError(f"load: a functional config holds {struct!r} where a layer reference "
                     f"[name, node, index] was expected")


def _refs(struct):
    out = []
    _map_refs(out.append, struct)
    return out


def _pick(outputs, index):
    return outputs[index] if isinstance(outputs, list) else outputs
