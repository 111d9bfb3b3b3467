#!/usr/bin/env python
"""What do tasks cost inside the step? (issue 15's bar: at most 10 % over the game alone.)

    taskset -c 0 python bench/bench_tasks.py                 # Default config, IMMORTAL, 4 envs
    taskset -c 0 python bench/bench_tasks.py --envs 16 --chunk 64 --repeats 5

Variants of the same rollout (random valid actions of every head, every observation leaf
read, bench_env.py's Rollout), each compiled once, then timed in turns (one call of `--chunk`
steps of each variant per round, `--repeats` rounds, medians), so that the machine's slow
spells fall on every variant alike:
  none     no task state at all: the reward is the default formula (the game alone)
  default  the default game's task, TickGE(horizon) per player
  heavy    the reference benchmark's heavy set (bench/reference_nmmo.py heavy_task_specs): 16
           built-in predicates (CountEvent, HarvestItem, DefeatEntity, AttainSkill, OwnItem,
           EquipItem, FullyArmed, CanSeeTile, ...), one drawn per player
  table    128 different tasks from the whole predicate table (all 34 built-ins in turn, with
           varied arguments), player i always task i: the bar of issue 15
  heavy-direct, table-direct  the same, every predicate by its own `fn` on every leaf (no
           lowering to the generic count of task/lowering.py: engine.LEAF_MODE "direct")
  heavy-switch, table-switch  the same, each leaf evaluating only its own predicate through a
           lax.switch in a sequential lax.map (engine.leaf_values_switch), not the one-pass select
Prints us per env-step, agent-steps/s, compile seconds, and the overhead against `none`: the
ratio of the medians, and the median (with quartiles) of each round's ratio to `none`'s time in
the same round, which a shared machine's slow spells disturb less.
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


def table_specs(n: int):
    """`n` different tasks drawn from the whole predicate table (every built-in of SPEC 14.3,
    in turn, with varied arguments), one per player: the issue's bar."""
    from nmmo_jax.task import Group, P, TaskSpec

    def one(i):  # a player, so that tasks without arguments differ by their subject
        return Group((7 * i) % n + 1)

    items = ("Ration", "Potion", "Whetstone", "Arrow", "Runes", "Hat", "Spear", "Rod")
    skills = ("melee", "range", "mage", "fishing", "herbalism", "prospecting", "carving")
    makers = [
        lambda i: P.Success(one(i)),
        lambda i: P.TickGE(num_tick=64 + i),
        lambda i: P.CanSeeTile(tile_type=("Water", "Tree", "Ore", "Crystal", "Herb")[i % 5]),
        lambda i: P.StayAlive(one(i)),
        lambda i: P.AllDead(one(i)),
        lambda i: P.CheckAgentStatus(target="all_foes", status=("alive", "dead")[i % 2]),
        lambda i: P.OccupyTile(row=80 + i % 9, col=80),
        lambda i: P.CanSeeAgent(target=one(i)),
        lambda i: P.CanSeeGroup(one(i), target="all_foes"),
        lambda i: P.DistanceTraveled(dist=8 + i),
        lambda i: P.AttainSkill(skill=skills[i % 7], level=2 + i % 3, num_agent=1),
        lambda i: P.GainExperience(skill=skills[i % 7], experience=50 + i, num_agent=1),
        lambda i: P.CountEvent(event=("EAT_FOOD", "DRINK_WATER", "GO_FARTHEST")[i % 3], N=5 + i),
        lambda i: P.ScoreHit(combat_style=("Melee", "Range", "Mage")[i % 3], N=3 + i),
        lambda i: P.DefeatEntity(agent_type=("npc", "player")[i % 2], level=i % 4, num_agent=1),
        lambda i: P.HoardGold(amount=5 + i),
        lambda i: P.EarnGold(amount=5 + i),
        lambda i: P.SpendGold(amount=5 + i),
        lambda i: P.MakeProfit(amount=5 + i),
        lambda i: P.InventorySpaceGE(space=1 + i % 10),
        lambda i: P.OwnItem(item=items[i % 8], level=1 + i % 3, quantity=1 + i % 4),
        lambda i: P.EquipItem(item=items[5 + i % 3], level=1, num_agent=1),
        lambda i: P.FullyArmed(
            combat_style=("Melee", "Range", "Mage")[i % 3], level=1, num_agent=1
        ),
        lambda i: P.ConsumeItem(item=items[i % 2], level=1, quantity=1 + i % 3),
        lambda i: P.HarvestItem(item=items[i % 5], level=1 + i % 2, quantity=1 + i % 3),
        lambda i: P.FireAmmo(item=items[2 + i % 3], level=1, quantity=1 + i % 3),
        lambda i: P.ListItem(item=items[i % 8], level=1, quantity=1 + i % 2),
        lambda i: P.BuyItem(item=items[i % 8], level=1, quantity=1 + i % 2),
        lambda i: P.ProgressTowardCenter(one(i)),
        lambda i: P.AllMembersWithinRange(dist=1 + i % 5),
        lambda i: P.SeizeTile(row=70 + i % 20, col=80, num_ticks=10),
        lambda i: P.SeizeCenter(num_ticks=5 + i),
        lambda i: P.SeizeQuadCenter(num_ticks=10, quadrant=("first", "second", "third")[i % 3]),
        lambda i: P.ProtectLeader(target_protect=one(i), target_destroy="all_foes"),
    ]
    exprs = [makers[i % len(makers)](i) for i in range(n)]
    for i, expr in enumerate(exprs):
        if expr.subject is None:
            expr.subject = one(i)  # distinct tasks: each names its own player
    specs = [TaskSpec(expr) for expr in exprs]
    assert len({s.name for s in specs}) == n, "the tasks must all differ"
    return specs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--variants", default="none,default,heavy,table,table-direct")
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

    class OnePerPlayer(nj.Env):
        """Player i always gets task i of the curriculum (all different)."""

        def assign_tasks(self, key, state):
            return self.set_tasks(state, self.curriculum)

    cfg = nj.Config.preset(args.preset, immortal=True)
    envs = {
        "none": lambda: GameAlone(cfg),
        "default": lambda: nj.Env(cfg),
        "heavy": lambda: nj.Env(cfg, tasks=heavy_specs()),
        "table": lambda: OnePerPlayer(cfg, tasks=table_specs(cfg.player_n)),
    }
    names = args.variants.split(",")
    rollouts, carries, results = {}, {}, {}
    for name in names:  # compile every variant first
        engine.LEAF_MODE = name.split("-")[1] if "-" in name else "select"
        rollout = Rollout(envs[name.split("-")[0]](), args.envs, args.chunk, "random")
        start = time.perf_counter()
        carry = rollout.init(jax.random.key(0))
        carry, stats = rollout.run(carry, jax.random.key(1))
        jax.block_until_ready(stats)
        rollouts[name], carries[name] = rollout, carry
        results[name] = {"compile_s": time.perf_counter() - start, "all_us": []}
    # then time them in turns, so that a slow spell of the machine hits every variant alike
    for i in range(args.repeats):
        for name in names:
            start = time.perf_counter()
            carries[name], stats = rollouts[name].run(carries[name], jax.random.key(10 + i))
            jax.block_until_ready(stats)
            us = (time.perf_counter() - start) / (args.chunk * args.envs) * 1e6
            results[name]["all_us"].append(us)
    base = results.get("none", {}).get("all_us")
    for name in names:
        times = results[name]["all_us"]
        us = statistics.median(times)
        results[name].update(us_per_env_step=us, agent_steps_per_s=cfg.player_n * 1e6 / us)
        overhead = ""
        if base:
            # each round's time over the game alone's in the same round: the machine's slow
            # spells (other jobs on the shared cache) hit neighbouring calls alike, so the
            # paired ratios scatter less than the ratio of the medians
            paired = sorted(100 * (t / b - 1) for t, b in zip(times, base, strict=True))
            quart = statistics.quantiles(paired, n=4) if len(paired) > 1 else paired * 3
            results[name].update(paired_overhead_pct=paired)
            overhead = (
                f", overhead {100 * (us / statistics.median(base) - 1):+.1f} % (medians), "
                f"paired {statistics.median(paired):+.1f} % [{quart[0]:+.1f}, {quart[2]:+.1f}]"
            )
        print(
            f"{name:12s} {us:8.1f} us/env-step (median of {args.repeats}; min {min(times):.1f}), "
            f"{cfg.player_n * 1e6 / us:10,.0f} agent-steps/s, compile+first chunk "
            f"{results[name]['compile_s']:.1f} s{overhead}",
            flush=True,
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"envs": args.envs, "chunk": args.chunk, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
