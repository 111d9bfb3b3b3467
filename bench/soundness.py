#!/usr/bin/env python
"""Long-run soundness: every invariant of nmmo_jax.invariants checked after every step of
random valid play of the full game, for at least `--agent-steps` agent-steps (issue 14).

    taskset -c 1 python bench/soundness.py                       # Default, 8 envs, >= 10^6
    taskset -c 1 python bench/soundness.py --immortal            # nobody dies: long episodes
    python bench/soundness.py --preset small --agent-steps 20000

The Default config (128 players, up to 128 NPCs, every system on), `--envs` environments with
auto-reset, every head of every agent uniform among the choices its masks allow
(env.sample_actions), `--chunk` steps per compiled call (a `lax.scan` with the checks inside),
until the agents alive at the start of their steps add up to `--agent-steps`. Prints the
agent-steps, env-steps, finished episodes, wall time and, per invariant, the number of
env-steps that violated it; exits 1 if any did.
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=128)
    parser.add_argument("--agent-steps", type=int, default=1_000_000)
    parser.add_argument("--immortal", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    import jax

    import nmmo_jax as nj
    from nmmo_jax import invariants

    cfg = nj.Config.preset(args.preset, immortal=args.immortal)
    init, run = invariants.checked_rollout(nj.Env(cfg), args.envs, args.chunk)
    start = time.perf_counter()
    carry = init(jax.random.key(args.seed))
    totals = None
    call = 0
    while totals is None or totals["agent_steps"] < args.agent_steps:
        carry, chunk = run(carry, jax.random.fold_in(jax.random.key(args.seed), call + 1))
        chunk = {k: int(v) for k, v in jax.device_get(chunk).items()}
        totals = chunk if totals is None else {k: totals[k] + chunk[k] for k in totals}
        call += 1
        bad = {k: totals[k] for k in invariants.NAMES if totals[k]}
        print(
            f"call {call}: {totals['agent_steps']:,} agent-steps, {totals['env_steps']:,} "
            f"env-steps, {totals['episodes']} episodes, {time.perf_counter() - start:.0f} s, "
            f"violations {bad or 'none'}",
            flush=True,
        )
    wall = time.perf_counter() - start
    print(f"preset {args.preset}, immortal {args.immortal}, {args.envs} envs, seed {args.seed}")
    print(
        f"agent-steps {totals['agent_steps']:,}, env-steps {totals['env_steps']:,}, "
        f"episodes {totals['episodes']}, wall {wall:.0f} s (compile included)"
    )
    for name in invariants.NAMES:
        print(f"  {name:20s} {totals[name]}")
    violated = sum(totals[name] for name in invariants.NAMES)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(vars(args), wall_s=wall, **totals), f, indent=1)
    return 1 if violated else 0


if __name__ == "__main__":
    raise SystemExit(main())
