#!/usr/bin/env python
"""Is the step time flat over a whole episode? (issues 12 and 14; the reference slows by ~80 %.)

    taskset -c 1 python bench/bench_flat.py                 # Default, IMMORTAL, 4 envs
    taskset -c 1 python bench/bench_flat.py --mortal        # the Default as it is: players die
    python bench/bench_flat.py --envs 16 --chunk 128 --ablate exchange_system_enabled=False

One compiled call steps `--chunk` ticks of `--envs` environments (jax.vmap of Env.step, no
auto-reset, so the measured window is one episode from its reset to its horizon: ticks 0-1024
of the Default), every head of every agent uniform among the choices its masks allow
(Env.sample_actions), every observation leaf read (rollout.checksum). Each call is timed after a
warm-up episode on other keys, so early, middle and late ticks are compared in one process;
`--repeats R` replays the same episode R times and keeps each chunk's fastest time.
Prints, per chunk, us per env-step and what could make a tick cost more later (players and NPCs
alive, items held, market listings, at the end of the chunk), then max / min over the chunks.
`--ablate field=value` overrides Config fields (repeatable) to find which system grows.
"""

from __future__ import annotations

import argparse
import ast
import json
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=128)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--mortal", action="store_true", help="players die (default: IMMORTAL)")
    parser.add_argument("--ablate", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument(
        "--repeats", type=int, default=1, help="replay the same episode; keep each chunk's min"
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    import jax

    import nmmo_jax as nj
    from nmmo_jax import items as it
    from nmmo_jax.rollout import checksum

    overrides = {}
    for item in args.ablate:
        field, value = item.split("=", 1)
        overrides[field] = ast.literal_eval(value)
    cfg = nj.Config.preset(args.preset, immortal=not args.mortal, **overrides)
    env = nj.Env(cfg)
    n, b = cfg.player_n, args.envs
    if cfg.horizon % args.chunk:
        parser.error(f"--chunk must divide the horizon ({cfg.horizon})")

    def body(carry, key):
        (obs, states), total = carry
        k_act, k_step = jax.random.split(key)
        actions = jax.vmap(env.sample_actions)(jax.random.split(k_act, b), obs)
        obs, states, reward, *_ = jax.vmap(env.step)(jax.random.split(k_step, b), states, actions)
        return ((obs, states), total + checksum(obs) + checksum(reward)), None

    @nj.jit  # nmmo_jax/compile.py: the CPU compiler options
    def run(carry, key):
        (carry, total), _ = jax.lax.scan(body, (carry, 0), jax.random.split(key, args.chunk))
        return carry, total

    reset = nj.jit(jax.vmap(env.reset), once=True)
    # compile, and warm up over one whole episode on other keys
    warm = reset(jax.random.split(jax.random.key(1), b))
    for i in range(cfg.horizon // args.chunk):
        warm, total = run(warm, jax.random.key(100 + i))
    jax.block_until_ready(total)
    rows = []
    for repeat in range(args.repeats):
        # the same keys every repeat: the same episode, so each chunk's min over the repeats
        # is its cost with the least interference from other work on the machine
        carry = reset(jax.random.split(jax.random.key(0), b))
        jax.block_until_ready(carry)
        for i in range(cfg.horizon // args.chunk):
            start = time.perf_counter()
            carry, total = run(carry, jax.random.key(10 + i))
            jax.block_until_ready(total)
            us = (time.perf_counter() - start) / (args.chunk * b) * 1e6
            if repeat:
                rows[i]["us_per_env_step"] = min(rows[i]["us_per_env_step"], us)
                rows[i]["runs"].append(us)
                continue
            states = carry[1]
            slots = states.inventory.slots
            rows.append(
                dict(
                    ticks=f"{i * args.chunk}-{(i + 1) * args.chunk}",
                    us_per_env_step=us,
                    runs=[us],
                    players=int(states.entities.alive[:, :n].sum()) / b,
                    npcs=int(states.entities.alive[:, n:].sum()) / b,
                    items=int((slots[..., it.COL["type_id"]] > 0).sum()) / b,
                    listings=int((slots[..., it.COL["listed_price"]] > 0).sum()) / b,
                )
            )
    for row in rows:
        runs = " ".join(f"{u:.0f}" for u in row["runs"])
        print(
            f"ticks {row['ticks']:>9}: {row['us_per_env_step']:7.1f} us/env-step (runs: {runs}); "
            f"per env after: {row['players']:.1f} players, {row['npcs']:.1f} NPCs, "
            f"{row['items']:.1f} items, {row['listings']:.1f} listings",
            flush=True,
        )
    times = [r["us_per_env_step"] for r in rows]
    print(
        f"immortal {cfg.immortal}, {b} envs, overrides {overrides or 'none'}: max / min chunk "
        f"{max(times) / min(times):.2f}, last / first {times[-1] / times[0]:.2f}"
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(vars(args), chunks=rows), f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
