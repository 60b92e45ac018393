"""Subcommands beyond ``estimate`` (kept apart so cli.py stays short)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def cmd_demo(args) -> int:
    from .datasets import load_nhefs
    from .datasets._real import NHEFS_OUTCOME_FORMULA, NHEFS_PROPENSITY_FORMULA
    from .estimators import estimate
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_nhefs()
    result = estimate(data, propensity=NHEFS_PROPENSITY_FORMULA, outcome=NHEFS_OUTCOME_FORMULA,
                      random_state=args.seed)
    (out / "estimate.json").write_text(json.dumps(result.to_dict(), indent=2))
    payload = {"estimate": result.to_dict(), "out": str(out)}
    if args.json:
        print(json.dumps(payload))
    else:
        print(result)
        print(f"\nwrote {out / 'estimate.json'}")
    return 0


def register(sub, add_data_args) -> None:
    p = sub.add_parser("demo", help="the main job on embedded NHEFS",
                       description="On embedded NHEFS: estimate the effect of quitting smoking on "
                                   "weight gain and write the results.")
    p.add_argument("--out", default="causalsynth-out", help="output folder (default causalsynth-out)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)
