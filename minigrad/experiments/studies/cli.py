"""``python -m minigrad reproduce NAME``: a published study over seeds (API §11)."""
import os
import pathlib
import sys


def command(args):
    """Entry point of the ``reproduce`` subcommand."""
    from ..cli import dask_client
    from . import get, reproduce
    study = get(args.name)                 # an unknown name fails before anything starts
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: expected a positive number of local "
                         f"worker processes")
    if args.seeds < 1:
        raise ValueError(f"--seeds {args.seeds}: expected a positive number of seeds")
    with dask_client(args.scheduler, args.workers) as client:
        # --workers N: a local pool of N processes, as ``sweep``
        results = reproduce(study.name, seeds=args.seeds, executor=client, out=args.out,
                            quick=args.quick, dataset=args.dataset,
                            progress=not args.quiet, workers=args.workers)
    md = os.path.join(args.out, f"{study.name}.md")
    print(pathlib.Path(md).read_text(encoding="utf-8"))
    failed = sum(r["error"] is not None for r in results)
    if failed:
        first = next(r for r in results if r["error"] is not None)
        print(f"{failed} of {len(results)} trials failed; the first: {first['error']}",
              file=sys.stderr)
    print(f"wrote {md}, {os.path.join(args.out, study.name + '.png')} and "
          f"{os.path.join(args.out, study.name + '.jsonl')}")
    return 0


def add_parser(subparsers):
    """Register the ``reproduce`` subcommand."""
    from ...diagnostics.cli import guarded
    from . import DATASETS, studies
    p = subparsers.add_parser(
        "reproduce", help="rerun a published vanishing-gradient study over seeds",
        description="Run a published study over seeds on the grid engine and write "
                    "DIR/NAME.jsonl (records; a rerun with the same --out resumes), "
                    "DIR/NAME.md (the table beside the published numbers) and DIR/NAME.png. "
                    f"Studies: {', '.join(studies())}.")
    p.add_argument("name", metavar="NAME", help=f"the study: {', '.join(studies())}")
    p.add_argument("--seeds", type=int, default=10, help="seeds per case (default 10)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: the number of cores)")
    where.add_argument("--scheduler", metavar="ADDR",
                       help="tcp://HOST:PORT of a running Dask scheduler, or 'local'")
    p.add_argument("--dataset", default="auto", choices=DATASETS,
                   help="auto (MNIST when its files are found locally, else digits), "
                        "digits, digits28 or mnist")
    p.add_argument("--quick", action="store_true",
                   help="the same nets with fewer seeds, epochs and samples (seconds)")
    p.add_argument("--out", metavar="DIR", default="reproductions",
                   help="output directory (default: reproductions)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=guarded(command, "reproduce"))
    return p
