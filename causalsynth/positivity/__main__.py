"""``python -m causalsynth.positivity``: the documented evaluation on PoorOverlapDesign."""
from __future__ import annotations

from ..datasets.designs import PoorOverlapDesign
from .evaluate import evaluate_augmentation


def main(argv: list[str] | None = None) -> int:
    """Run the documented evaluation on :class:`PoorOverlapDesign` and print its tables."""
    import argparse
    import os
    os.environ.setdefault("CAUSALSYNTH_PROGRESS", "0")
    p = argparse.ArgumentParser(prog="python -m causalsynth.positivity", description=main.__doc__)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--nonlinearity", type=float, default=0.0, help="PoorOverlapDesign nonlinearity")
    p.add_argument("--budget", type=int, default=None)
    p.add_argument("--generator", default="local", choices=("local", "hybrid"))
    p.add_argument("--uncertainty", default="ensemble", choices=("ensemble", "none"))
    p.add_argument("--n-bootstrap", type=int, default=None, help="also bootstrap the augmented SEs (costly)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default=None, help="also write the report into this folder")
    args = p.parse_args(argv)
    ev = evaluate_augmentation(PoorOverlapDesign(nonlinearity=args.nonlinearity), n=args.n,
                               n_repeats=args.repeats, budget=args.budget, generator=args.generator,
                               uncertainty=args.uncertainty, n_bootstrap=args.n_bootstrap, random_state=args.seed)
    print(ev)
    if args.report:
        ev.write_report(args.report)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
