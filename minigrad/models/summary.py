"""``model.summary()``: Keras's table of layers, output shapes and parameter counts; for a
functional model also the "Connected to" column (the layers each call takes its inputs from).
"""
import numpy as np


def _format_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024


def _param_line(label, params):
    count = sum(p.size for p in params)
    size = sum(p.data.nbytes for p in params)
    return f" {label}: {count:,} ({_format_bytes(size)})"


def _shape_text(shape):
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return str(tuple(shape)).replace(",)", ")")


def _connections(model, layer):
    """Keras's "Connected to" cell: ``name[node][tensor]`` for each input of each call of
    ``layer`` in this model (one per line); "-" for an input layer."""
    refs = []
    for node in model._nodes:
        if node.layer is layer:
            for t in node.flat_inputs:
                k = sum(1 for m in model._nodes[:model._nodes.index(t.node)]
                        if m.layer is t.node.layer) if t.node in model._nodes else 0
                refs.append(f"{t.node.layer.name}[{k}][{t.index}]")
    return refs or ["-"]


def summary_text(model, line_length=None):
    """The summary table as a string (``summary`` prints it), laid out as Keras's: columns
    end at 45 %, 85 % and 100 % of ``line_length`` (None: 65, widened to fit long names); a
    functional model adds "Connected to" (columns at 30 %, 56 %, 74 %, 100 % of 108)."""
    layers = getattr(model, "_operations", None) or model.layers   # op nodes too (Keras)
    names = [f"{layer.name} ({getattr(layer, 'type_name', type(layer).__name__)})"
             for layer in layers]
    functional = hasattr(model, "_nodes")
    if functional:
        line_length = line_length or 108
        ends = [int(line_length * f) for f in (0.30, 0.56, 0.74, 1.0)]
    else:
        if line_length is None:
            line_length = 65 + max([0] + [len(n) + 2 - int(65 * 0.45) for n in names])
        ends = [int(line_length * 0.45), int(line_length * 0.85), line_length]
        if line_length > 65:   # widened: only the name column grows
            ends = [line_length - 36, line_length - 10, line_length]

    def row(cells):
        text, start = "", 0
        for cell, end in zip(cells, ends):
            cell = (" " + cell)[:end - start - 1] if start == 0 else cell[:end - start - 1]
            text += cell.ljust(end - start)
            start = end
        return text.rstrip()

    head = ("Layer (type)", "Output Shape", "Param #") + (("Connected to",) if functional
                                                           else ())
    lines = [f'Model: "{model.name}"', "_" * line_length, row(head), "=" * line_length]
    for i, (layer, name) in enumerate(zip(layers, names)):
        cells = [name, _shape_text(layer.output_shape), str(layer.count_params())]
        if functional:
            links = _connections(model, layer)
            lines.append(row(cells + [links[0]]))
            lines += [row(["", "", "", link]) for link in links[1:]]
        else:
            lines.append(row(cells))
        lines.append(("_" if i < len(layers) - 1 else "=") * line_length)
    if not layers:
        lines.append("=" * line_length)
    lines.append(_param_line("Total params", model.weights))
    lines.append(_param_line("Trainable params", model.trainable_weights))
    lines.append(_param_line("Non-trainable params", model.non_trainable_weights))
    opt = getattr(model, "optimizer", None)
    arrays = [np.asarray(v) for v in opt.variables] if opt is not None else []
    if len(arrays) > 1:      # built: iterations plus the slots (Keras shows them then)
        lines.append(f" Optimizer params: {sum(a.size for a in arrays):,} "
                     f"({_format_bytes(sum(a.nbytes for a in arrays))})")
    return "\n".join(lines)
