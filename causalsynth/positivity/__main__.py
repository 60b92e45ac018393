"""``python -m causalsynth.positivity``: the documented evaluations on PoorOverlapDesign
(augmentation) and, with ``--design xu2026``, on the near-deterministic design of Xu (2026)
(truncation rules, augmentation with and without an external randomized study)."""
from __future__ import annotations

import argparse

from ..datasets.designs import PoorOverlapDesign
from .evaluate import evaluate_augmentation
from .spec import AugmentSpec


def _budget(text: str):
    """argparse type for --budget: an integer, 'auto' or 'none'."""
    if text.lower() == "none":
        return None
    if text.lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--budget must be an integer, 'auto' or 'none', not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--budget must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the documented evaluation on PoorOverlapDesign (or, with --design xu2026, the
    extreme-overlap study) and print its tables."""
    import os
    os.environ.setdefault("CAUSALSYNTH_PROGRESS", "0")
    p = argparse.ArgumentParser(prog="python -m causalsynth.positivity", description=main.__doc__)
    p.add_argument("--design", default="poor_overlap", choices=("poor_overlap", "xu2026"))
    p.add_argument("--n", type=int, default=1000, help="rows per dataset (poor_overlap)")
    p.add_argument("--ns", default="100,200,500", help="comma-separated sample sizes (xu2026)")
    p.add_argument("--n-external", type=int, default=1000, help="rows of the external randomized study (xu2026)")
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--nonlinearity", type=float, default=0.0, help="PoorOverlapDesign nonlinearity")
    p.add_argument("--budget", type=_budget, default=None, help="records to add: an integer, 'auto' or 'none' (default: "
                   "one per low-overlap unit for poor_overlap, 'auto' for xu2026)")
    p.add_argument("--generator", default="local", choices=("local", "hybrid"))
    p.add_argument("--uncertainty", default="ensemble", choices=("ensemble", "none"))
    p.add_argument("--n-bootstrap", type=int, default=None, help="also bootstrap the augmented SEs (costly)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default=None, help="also write the report into this folder")
    args = p.parse_args(argv)
    if args.design == "xu2026":
        from .extreme import extreme_overlap_study
        ns = tuple(int(v) for v in args.ns.split(","))
        budget = "auto" if args.budget is None else args.budget
        print(extreme_overlap_study(ns=ns, n_reps=args.repeats, n_external=args.n_external, budget=budget,
                                    random_state=args.seed))
        return 0
    spec = AugmentSpec(budget=args.budget, generator=args.generator, uncertainty=args.uncertainty)
    ev = evaluate_augmentation(PoorOverlapDesign(nonlinearity=args.nonlinearity), spec, n=args.n,
                               n_reps=args.repeats, n_bootstrap=args.n_bootstrap, random_state=args.seed)
    print(ev)
    if args.report:
        ev.write_report(args.report)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
