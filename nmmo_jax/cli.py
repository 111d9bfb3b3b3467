"""The `nmmo-jax` command. `nmmo-jax rollout`: N vmapped environments with random valid actions."""

from __future__ import annotations

import argparse
import sys
import time

import jax
import numpy as np


def _rollout(args) -> int:
    from tqdm import tqdm

    from nmmo_jax.config import Config
    from nmmo_jax.env import Env
    from nmmo_jax.rollout import STAT_KEYS, Rollout, alive_counts

    cfg = Config.preset(args.preset, immortal=args.immortal)
    env = Env(cfg)
    chunk = max(1, min(args.chunk, args.steps))
    n_chunks = -(-args.steps // chunk)
    rollout = Rollout(env, args.envs, chunk, args.mode)
    key = jax.random.key(args.seed)

    print(
        f"nmmo-jax rollout: {args.envs} envs x {cfg.player_n} players, preset {args.preset}, "
        f"map {cfg.map_size}x{cfg.map_size}, horizon {cfg.horizon}, mode {args.mode}, "
        f"backend {jax.default_backend()}",
        flush=True,
    )
    t0 = time.perf_counter()
    carry = jax.block_until_ready(rollout.init(jax.random.fold_in(key, 0)))
    compiled = rollout.run.lower(carry, key).compile()
    compile_s = time.perf_counter() - t0
    print(f"compiled in {compile_s:.1f} s (map pool, reset and a {chunk}-step scan)", flush=True)

    totals = {k: 0.0 for k in STAT_KEYS}
    elapsed = 0.0
    with tqdm(total=n_chunks * chunk, unit="step", disable=args.quiet) as bar:
        for i in range(n_chunks):
            t = time.perf_counter()
            carry, stats = compiled(carry, jax.random.fold_in(key, i + 1))
            stats = jax.device_get(stats)
            elapsed += time.perf_counter() - t
            for k in STAT_KEYS:
                totals[k] += float(stats[k])
            bar.update(chunk)
            bar.set_postfix(agent_steps_per_s=f"{totals['agent_steps'] / elapsed:,.0f}")

    alive = np.asarray(alive_counts(carry))
    steps = n_chunks * chunk
    deaths = int(totals["deaths"])
    print(f"steps per env      {steps}")
    print(f"agent-steps        {int(totals['agent_steps']):,}")
    print(
        f"agent-steps/s      {totals['agent_steps'] / elapsed:,.0f}  "
        f"({elapsed:.2f} s after compile)"
    )
    print(f"env-steps/s        {args.envs * steps / elapsed:,.0f}")
    print(f"episodes finished  {int(totals['episodes'])}")
    print(f"deaths             {deaths}")
    if deaths:
        print(
            f"mean lifetime      {totals['lifetime_of_dead'] / deaths:.1f} ticks (agents that died)"
        )
    print(
        f"alive now          mean {alive.mean():.1f} of {cfg.player_n} "
        f"(min {alive.min()}, max {alive.max()})"
    )
    print(f"mean reward/agent-step {totals['reward'] / max(totals['agent_steps'], 1):+.5f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nmmo-jax", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ro = sub.add_parser("rollout", help="step N vmapped environments with random valid actions")
    ro.add_argument(
        "--envs", type=int, default=16, help="environments run in one vmap (default 16)"
    )
    ro.add_argument("--steps", type=int, default=1024, help="steps per environment (default 1024)")
    ro.add_argument(
        "--preset",
        default="medium",
        choices=["small", "medium", "large"],
        help="Config preset (default medium = the reference Default)",
    )
    ro.add_argument("--mode", default="random", choices=["random", "noop"])
    ro.add_argument(
        "--immortal", action="store_true", help="players neither starve nor take damage"
    )
    ro.add_argument("--seed", type=int, default=0)
    ro.add_argument(
        "--chunk", type=int, default=128, help="steps per compiled call (progress granularity)"
    )
    ro.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    for name in ("envs", "steps", "chunk"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1 (got {getattr(args, name)})")
    if args.command == "rollout":
        return _rollout(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
