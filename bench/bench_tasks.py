#!/usr/bin/env python
"""What do tasks cost inside the step? (issue 15's bar: at most 10 % over the game alone.)

    taskset -c 0 python bench/bench_tasks.py                 # Default config, IMMORTAL, 4 envs
    taskset -c 0 python bench/bench_tasks.py --envs 16 --chunk 64 --repeats 5

Three variants of the same rollout (random valid actions of every head, every observation
leaf read, bench_env.py's Rollout), each compiled once and timed over `--repeats` calls of
`--chunk` steps:
  none     no task state at all: the reward is the default formula (the game alone)
  default  the default game's task, TickGE(horizon) per player
  heavy    the reference benchmark's heavy set (bench/reference_nmmo.py heavy_task_specs): 16
           built-in predicates (CountEvent, HarvestItem, DefeatEntity, AttainSkill, OwnItem,
           EquipItem, FullyArmed, CanSeeTile, ...), one drawn per player
  heavy-switch  the same, each leaf evaluating only its own predicate through a lax.switch in
           a sequential lax.map (engine.leaf_values_switch) instead of the one-pass select
Prints us per env-step, agent-steps/s, compile seconds, and the overhead against `none`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def heavy_specs():
    from nmmo_jax.task import P, TaskSpec

    catalog = [
        P.CountEvent(event="EAT_FOOD", N=10),
        P.CountEvent(event="DRINK_WATER", N=10),
        P.HarvestItem(item="Ration", level=1, quantity=2),
        P.DefeatEntity(agent_type="npc", level=1, num_agent=2),
        P.AttainSkill(skill="Melee", level=3, num_agent=1),
        P.GainExperience(skill="Fishing", experience=100, num_agent=1),
        P.OwnItem(item="Whetstone", level=1, quantity=3),
        P.EquipItem(item="Hat", level=1, num_agent=1),
        P.ConsumeItem(item="Ration", level=1, quantity=2),
        P.FullyArmed(combat_style="Range", level=1, num_agent=1),
        P.HoardGold(amount=10),
        P.EarnGold(amount=10),
        P.DistanceTraveled(dist=16),
        P.CanSeeTile(tile_type="Foilage"),
        P.ScoreHit(combat_style="Mage", N=5),
        P.InventorySpaceGE(space=4),
    ]
    return [TaskSpec(expr) for expr in catalog]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--variants", default="none,default,heavy,heavy-switch")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    import jax

    import nmmo_jax as nj
    from nmmo_jax.rollout import Rollout
    from nmmo_jax.task import engine

    class GameAlone(nj.Env):
        """The same game without task state: the step pays the default reward formula."""

        def assign_tasks(self, key, state):
            return state

    cfg = nj.Config.preset(args.preset, immortal=True)
    envs = {
        "none": lambda: GameAlone(cfg),
        "default": lambda: nj.Env(cfg),
        "heavy": lambda: nj.Env(cfg, tasks=heavy_specs()),
        "heavy-switch": lambda: nj.Env(cfg, tasks=heavy_specs()),
    }
    results = {}
    for name in args.variants.split(","):
        engine.LEAF_MODE = "switch" if name.endswith("-switch") else "select"
        rollout = Rollout(envs[name](), args.envs, args.chunk, "random")
        start = time.perf_counter()
        carry = rollout.init(jax.random.key(0))
        carry, stats = rollout.run(carry, jax.random.key(1))
        jax.block_until_ready(stats)
        compile_s = time.perf_counter() - start
        times = []
        for i in range(args.repeats):
            start = time.perf_counter()
            carry, stats = rollout.run(carry, jax.random.key(10 + i))
            jax.block_until_ready(stats)
            times.append((time.perf_counter() - start) / (args.chunk * args.envs) * 1e6)
        us = statistics.median(times)
        results[name] = {
            "us_per_env_step": us,
            "agent_steps_per_s": cfg.player_n * 1e6 / us,
            "compile_s": compile_s,
            "all_us": times,
        }
        base = results.get("none", {}).get("us_per_env_step")
        overhead = f", overhead {100 * (us / base - 1):+.1f} %" if base else ""
        print(
            f"{name:8s} {us:8.1f} us/env-step (median of {args.repeats}; min {min(times):.1f}), "
            f"{cfg.player_n * 1e6 / us:10,.0f} agent-steps/s, compile+first chunk "
            f"{compile_s:.1f} s{overhead}",
            flush=True,
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"envs": args.envs, "chunk": args.chunk, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
