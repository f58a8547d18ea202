"""The command line: demo, gradients (one case, --compare), sweep, --version; every user
mistake a one-line error with exit code 2."""
import json
import socket
import sys

import pytest

import minigrad as mg
from minigrad.__main__ import build_parser, main
from minigrad.experiments import load

PNG = b"\x89PNG\r\n\x1a\n"


def _one_line_error(captured, *needles):
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_gradients_prints_reports_and_writes_its_png(capsys, tmp_path):
    png = tmp_path / "g.png"
    assert main(["gradients", "--depth", "3", "--epochs", "1", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "at initialisation" in out and "after 1 epochs" in out
    assert "hidden_1" in out and "sigmoid" in out and "validation accuracy" in out
    assert png.read_bytes()[:8] == PNG


def test_gradients_epochs_0_reports_at_initialisation_and_skips_training(capsys, tmp_path):
    png = tmp_path / "init.png"
    assert main(["gradients", "--depth", "2", "--epochs", "0", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "at initialisation" in out and "no training" in out
    assert "after 0 epochs" not in out and "validation accuracy" not in out
    assert png.read_bytes()[:8] == PNG


def test_gradients_options_and_the_init_grammar(capsys):
    from minigrad.diagnostics.cli import parse_init
    mg.random.seed(0)
    draw = parse_init("normal:0.3")((400, 500))
    assert draw.std() == pytest.approx(0.3, rel=0.01) and abs(draw.mean()) < 0.005
    assert main(["gradients", "--depth", "2", "--epochs", "1", "--optimizer", "adam",
                 "--lr", "0.01", "--clipnorm", "1", "--batch-norm", "--init", "normal:0.5"]) == 0
    out = capsys.readouterr().out
    assert "batch norm" in out and "adam lr=0.01 clipnorm=1" in out
    assert main(["gradients", "--depth", "3", "--epochs", "0", "--residual"]) == 0
    out = capsys.readouterr().out
    assert "residual" in out.splitlines()[0] and "hidden_3" in out


@pytest.mark.parametrize("argv, needles", [
    (["gradients", "--activation", "relu7"], ["unknown activation 'relu7'", "sigmoid"]),
    (["gradients", "--init", "glorot_wide"], ["glorot_uniform"]),
    (["gradients", "--init", "normal:-1"], ["must be positive"]),
    (["gradients", "--depth", "0"], ["--depth", "got 0"]),
    (["gradients", "--epochs", "-1"], ["--epochs", "got -1"]),
    (["gradients", "--seeds", "3"], ["--seeds", "--compare"]),
    (["gradients", "--compare", "--activation", "relu"], ["--activation", "cannot be combined"]),
    (["gradients", "--compare", "--init", "he_normal", "--clipnorm", "1"],
     ["--init, --clipnorm", "cannot be combined"]),
    (["demo", "--batch-size", "0"], ["--batch-size", "got 0"]),
    (["demo", "--epochs", "0"], ["--epochs", "got 0"]),
])
def test_user_mistakes_are_one_line_errors_with_exit_code_2(capsys, argv, needles):
    assert main(argv) == 2
    captured = capsys.readouterr()
    _one_line_error(captured, f"minigrad {argv[0]}: error:", *needles)
    assert "at initialisation" not in captured.out


def test_plot_into_a_missing_directory_fails_before_training(capsys, tmp_path):
    assert main(["gradients", "--plot", str(tmp_path / "missing" / "g.png")]) == 2
    captured = capsys.readouterr()
    _one_line_error(captured, "does not exist")
    assert captured.out == ""


def test_compare_runs_every_case_over_seeds_through_run_grid(capsys, tmp_path):
    from minigrad.experiments import lecture_cases
    png = tmp_path / "c.png"
    assert main(["gradients", "--compare", "--epochs", "0", "--depth", "2", "--seeds", "2",
                 "--workers", "1", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    for label, _ in lecture_cases():
        rows = [line for line in out.splitlines() if line.startswith(label + "  ")]
        assert len(rows) == 2, label        # the per-layer table and the summary
    assert "median of 2 seeds" in out and "2 seeds" in out and "10%" in out
    assert png.read_bytes()[:8] == PNG


def test_demo_trains(capsys):
    assert main(["demo", "--epochs", "1", "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.rsplit("test accuracy", 1)[1].split()[0])
    assert accuracy > 0.7          # one epoch of Adam on the digits


def test_version_and_the_usage_line_naming_the_program(capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"minigrad {mg.__version__}"
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/minigrad"])
    assert build_parser().format_usage().startswith("usage: minigrad ")
    monkeypatch.setattr(sys, "argv", ["/src/minigrad/__main__.py"])
    assert build_parser().format_usage().startswith("usage: python -m minigrad ")


GRID_TOML = """
depth = 3
width = 8
activation = ["sigmoid", "relu"]
clipnorm = 0
epochs = 1
seed = [0, 1]
"""


def test_sweep_prints_its_table_writes_records_and_png(capsys, tmp_path):
    grid, out, png = tmp_path / "grid.toml", tmp_path / "r.jsonl", tmp_path / "s.png"
    grid.write_text(GRID_TOML)
    assert main(["sweep", str(grid), "--workers", "1", "--out", str(out), "--plot", str(png),
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert any(line.startswith("activation=sigmoid") and line.split()[1] == "2"
               for line in lines), text
    assert any(line.startswith("activation=relu") for line in lines)
    assert "log10(first/last kernel gradient norm)" in text and "test acc" in text
    records = load(out)
    assert len(records) == 4 and all(r["error"] is None for r in records)
    assert {r["config"]["clipnorm"] for r in records} == {None}     # 0 means no clipping
    assert png.read_bytes()[:8] == PNG
    # --resume with everything recorded runs nothing and prints the same table
    assert main(["sweep", str(grid), "--workers", "1", "--out", str(out), "--resume",
                 "--quiet"]) == 0
    assert len(load(out)) == 4
    assert "activation=relu" in capsys.readouterr().out


@pytest.mark.parametrize("toml, needles", [
    ('depth = 3\nactivations = ["relu"]\n', ["unknown config key 'activations'",
                                              "valid keys: dataset, depth"]),
    ('activation = ["relu", "relu7"]\n', ["unknown activation 'relu7'", "relu"]),
    ('seed = []\n', ["axis 'seed' is empty"]),
    ('depth = [3\n', ["not valid TOML"]),
    ('[net]\ndepth = 3\n', ["top level"]),
])
def test_sweep_refuses_a_bad_grid_before_running_anything(capsys, tmp_path, toml, needles):
    grid, out = tmp_path / "grid.toml", tmp_path / "r.jsonl"
    grid.write_text(toml)
    assert main(["sweep", str(grid), "--out", str(out), "--quiet"]) == 2
    _one_line_error(capsys.readouterr(), "minigrad sweep: error:", *needles)
    assert not out.exists()


def test_sweep_unreachable_scheduler_is_a_clear_error_and_writes_nothing(capsys, tmp_path,
                                                                         monkeypatch):
    pytest.importorskip("distributed")
    import minigrad.experiments.cli as sweep_cli
    # the real timeout is 10 s; the message, not the elapsed time, is what is tested
    monkeypatch.setattr(sweep_cli, "CONNECT_TIMEOUT", "1s")
    with socket.socket() as s:          # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    grid, out = tmp_path / "grid.toml", tmp_path / "r.jsonl"
    grid.write_text(GRID_TOML)
    address = f"tcp://127.0.0.1:{port}"
    assert main(["sweep", str(grid), "--scheduler", address, "--out", str(out)]) == 2
    _one_line_error(capsys.readouterr(), "cannot reach the Dask scheduler", address)
    assert not out.exists()


def test_sweep_resume_needs_out_and_a_missing_file_is_named(capsys, tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID_TOML)
    assert main(["sweep", str(grid), "--resume"]) == 2
    _one_line_error(capsys.readouterr(), "--resume needs --out")
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    _one_line_error(capsys.readouterr(), "no grid file", "nope.toml")


def test_sweep_records_are_json_lines(tmp_path, capsys):
    grid, out = tmp_path / "grid.toml", tmp_path / "r.jsonl"
    grid.write_text("depth = 2\nwidth = 4\nepochs = 0\nseed = [3]\n")
    assert main(["sweep", str(grid), "--workers", "1", "--out", str(out), "--quiet"]) == 0
    (line,) = out.read_text().splitlines()
    record = json.loads(line)
    assert record["config"]["seed"] == 3 and record["grad_final"] is None
    assert list(record["grad_init"]) == ["hidden_1", "hidden_2", "output"]


def _scalars(run_dir):
    """{tag: [(step, value)]} of a TensorBoard run, read with TensorBoard's own reader."""
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    from tensorboard.util import tensor_util
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
                  for e in acc.Tensors(tag)] for tag in acc.Tags()["tensors"]}


def test_logdir_writes_one_tensorboard_run_per_trial(capsys, tmp_path):
    pytest.importorskip("tensorboard")
    logdir = tmp_path / "logs"
    grid, out = tmp_path / "grid.toml", tmp_path / "r.jsonl"
    grid.write_text(GRID_TOML)
    assert main(["sweep", str(grid), "--workers", "1", "--out", str(out), "--logdir",
                 str(logdir), "--quiet"]) == 0
    assert "4 TensorBoard runs" in capsys.readouterr().out
    assert sorted(p.name for p in logdir.iterdir()) == [
        "activation=relu-seed0", "activation=relu-seed1", "activation=sigmoid-seed0",
        "activation=sigmoid-seed1"]
    record = next(r for r in load(out) if r["config"]["activation"] == "relu"
                  and r["config"]["seed"] == 1)
    tags = _scalars(logdir / "activation=relu-seed1")
    assert tags["epoch_val_accuracy"] == [(0, pytest.approx(record["history"]["val_accuracy"][0]))]
    first = record["grad_init"]["hidden_1"]["kernel_grad_norm"]
    assert tags["gradients/hidden_1/kernel_grad_norm"][0] == (0, pytest.approx(first))
    # gradients: one run named like a trial of --compare
    assert main(["gradients", "--depth", "2", "--epochs", "1", "--logdir",
                 str(tmp_path / "one")]) == 0
    assert "TensorBoard run written" in capsys.readouterr().out
    (run,) = (tmp_path / "one").iterdir()
    assert run.name == "sigmoid + glorot_uniform-seed0"
    assert len(_scalars(run)["epoch_loss"]) == 1
    assert main(["gradients", "--compare", "--depth", "2", "--epochs", "0", "--workers", "1",
                 "--logdir", str(tmp_path / "cmp")]) == 0
    names = sorted(p.name for p in (tmp_path / "cmp").iterdir())
    assert "sigmoid + residual-seed0" in names and len(names) == 11


def test_sweep_on_a_local_dask_cluster_gives_the_pool_records(capsys, tmp_path):
    pytest.importorskip("distributed")
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID_TOML)
    outs = {}
    for where in (["--workers", "1"], ["--scheduler", "local"]):
        out = tmp_path / f"{where[1]}.jsonl"
        assert main(["sweep", str(grid), *where, "--out", str(out), "--quiet"]) == 0
        assert "activation=relu" in capsys.readouterr().out
        outs[where[1]] = sorted(json.dumps({k: v for k, v in r.items() if k != "seconds"},
                                           sort_keys=True) for r in load(out))
    assert outs["1"] == outs["local"] and len(outs["1"]) == 4
