#!/usr/bin/env python
"""Statistical parity of nmmo-jax and the reference nmmo 2.1.2 under the same scripted agents.

The same mixes of scripted agents (agents/scripted.py here, its numpy twin
bench/scripted_reference.py on the reference) play many episodes on both engines; the engines'
random streams differ (maps' resources, spawns, NPC rolls), so what is compared is the
distribution of per-episode statistics, never trajectories. docs/PARITY.md has a run's results.

  python bench/parity.py ours --mix mixed --episodes 64 --ticks 384 --out runs/ours_mixed.jsonl
  python bench/parity.py reference --mix mixed --episodes 16 --ticks 384 \
      --out runs/ref_mixed.jsonl              # bench/parity_reference.py in .reference/venv
  python bench/parity.py compare --runs runs --mixes forager,mixed --ticks 384   # plots to
      # docs/parity, tables to stdout; it reads runs/ref_<mix>.jsonl and runs/ours_<mix>.jsonl
  python bench/parity.py all --episodes 16 --ours-episodes 64 --ticks 384 --runs runs

Both sides write one JSON line per episode with the same fields (bench/parity_reference.py's
`episode_stats` documents the reference's): per player its policy, death tick (0 = alive at the
end), event counts by code, item-event `number` sums by (type, level), SCORE_HIT by style, kills
of players / NPCs and the style of each kill (the style of the killer's one hit of that tick),
gold by event, the highest LEVEL_UP per skill, and the damage NPCs dealt to it; per tick the
players alive by policy and the NPCs alive.

Damage taken from NPCs is measured the same way on both sides ("proxy"): after every step, for
each player alive at its start, the entity's `damage` column (the last hit it took that tick)
when its `attacker_id` is an NPC (negative). It misses the earlier hits of a tick with several
attackers, and a last hit by a player hides an NPC's. The reference also reports the exact sum
(its Player.receive_damage wrapped): the gap between the two is the proxy's bias.

`compare` reduces each statistic to one value per episode (the mean over the players of one
policy, or an episode total), and bootstraps the difference of the two engines' means over
episodes (2000 resamples of each engine's episodes, independently; 95 % percentile interval):
episodes are the independent units (the agents of one episode share a map and interact).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF_PYTHON = os.path.join(ROOT, ".reference", "venv", "bin", "python")
MIXES = {"forager": (0, 1, 0, 0), "mixed": (1, 1, 1, 1), "fighter": (0, 0, 1, 0)}
POLICY_NAMES = ("random", "forager", "fighter", "merchant")
N_TYPES, LEVELS, N_SKILLS = 18, 10, 8
# item events kept per (type, level) for HARVEST_ITEM, per type for the others (smaller files)
ITEM_CODES = ("HARVEST_ITEM", "CONSUME_ITEM", "EQUIP_ITEM", "LIST_ITEM", "BUY_ITEM", "LOOT_ITEM")
COUNT_CODES = (
    "EAT_FOOD",
    "DRINK_WATER",
    "SCORE_HIT",
    "PLAYER_KILL",
    "FIRE_AMMO",
    "CONSUME_ITEM",
    "GIVE_ITEM",
    "DESTROY_ITEM",
    "HARVEST_ITEM",
    "EQUIP_ITEM",
    "LOOT_ITEM",
    "GIVE_GOLD",
    "LIST_ITEM",
    "EARN_GOLD",
    "BUY_ITEM",
    "LOOT_GOLD",
    "LEVEL_UP",
)
GOLD_CODES = ("LOOT_GOLD", "EARN_GOLD", "BUY_ITEM")
SKILLS = ("melee", "range", "mage", "fishing", "herbalism", "prospecting", "carving", "alchemy")
STYLES = ("melee", "range", "mage")
ITEM_NAMES = {
    5: "spear",
    6: "bow",
    7: "wand",
    8: "rod",
    9: "gloves",
    10: "pickaxe",
    11: "axe",
    12: "chisel",
    13: "whetstone",
    14: "arrow",
    15: "runes",
    16: "ration",
    17: "potion",
    2: "hat",
    3: "top",
    4: "bottom",
}


# --------------------------------------------------------------------------------------------
# our side
# --------------------------------------------------------------------------------------------
def make_runner(cfg, mix: str, ticks: int, batch: int):
    """A jitted function key -> statistics of `batch` episodes of `ticks` steps (numpy-ready
    pytree, leading axis [batch]) with the scripted mix `mix`."""
    import jax
    import jax.numpy as jnp

    import nmmo_jax as nj
    from agents import scripted
    from nmmo_jax import events as ev

    env = nj.Env(cfg)
    n = cfg.player_n
    ids = scripted.policy_ids(n, MIXES[mix])
    heads = len(env.action_heads)

    def act(obs, u):
        return scripted.mixed(ids, obs, u)

    def run(key):
        reset_key, scan_key = jax.random.split(key)
        obs, state = jax.vmap(env.reset)(jax.random.split(reset_key, batch))
        zeros = jnp.zeros((batch, n), jnp.int32)
        carry = dict(
            obs=obs,
            state=state,
            hits=state.events.hits,
            kills=zeros,
            kill_style=jnp.zeros((batch, n, 3), jnp.int32),
            death=zeros,
            proxy=zeros,
        )

        def body(c, k):
            u_key, step_key = jax.random.split(k)
            u = jax.random.uniform(u_key, (batch, n, heads))
            actions = jax.vmap(act)(c["obs"], u)
            obs, state, _, died, _, info = jax.vmap(env.step)(
                jax.random.split(step_key, batch), c["state"], actions
            )
            ent = state.entities
            hit_by_npc = info["active"] & (ent.damage[:, :n] > 0) & (ent.attacker_id[:, :n] < 0)
            kills = state.events.kills[:, :n].sum(axis=(-1, -2))
            new_kills = kills - c["kills"]
            new_hits = state.events.hits - c["hits"]  # one hit per player per tick at most
            out = dict(
                obs=obs,
                state=state,
                hits=state.events.hits,
                kills=kills,
                kill_style=c["kill_style"] + new_kills[..., None] * new_hits,
                death=jnp.where(died, state.tick[:, None], c["death"]),
                proxy=c["proxy"] + jnp.where(hit_by_npc, ent.damage[:, :n], 0),
            )
            per_tick = dict(alive=info["alive"], npc=ent.alive[:, n:].sum(-1))
            return out, per_tick

        c, per_tick = jax.lax.scan(body, carry, jax.random.split(scan_key, ticks))
        log = c["state"].events
        items = {}
        for name in ITEM_CODES:
            a = jnp.zeros((batch, n, N_TYPES, log.items.shape[-1]), jnp.int32)
            for k, (code, t) in enumerate(ev.ITEM_EVENT_KEYS):
                if code == name:
                    a = a.at[:, :, t].set(log.items[:, :, k])
            items[name] = a if name == "HARVEST_ITEM" else a.sum(-1)
        col = {name: ev.EVENT_COLUMN[ev.EVENT_CODES[name]] for name in COUNT_CODES}
        players_alive = per_tick["alive"].any(-1)  # [T, B]
        steps = jnp.where(
            players_alive.all(0), ticks, jnp.argmin(players_alive, axis=0) + 1
        )  # the reference stops stepping once every player is dead
        return dict(
            steps=steps,
            map_id=c["state"].map_index + 1,  # the reference's map file number
            death_tick=c["death"],
            alive=jnp.moveaxis(per_tick["alive"], 0, 1),
            npc_count=per_tick["npc"].T,
            counts={name: log.episode[:, :n, j] for name, j in col.items()},
            items=items,
            hits=log.hits,
            gold={name: log.gold[:, :n, ev.GOLD_KEYS.index(name)] for name in GOLD_CODES},
            level_up=log.level_up,
            kills_player=log.kills[:, :n, 0].sum(-1),
            kills_npc=log.kills[:, :n, 1].sum(-1),
            kill_style=c["kill_style"],
            npc_kills_of_players=log.kills[:, n:, 0].sum((-1, -2)),
            npc_damage_proxy=c["proxy"],
        )

    return jax.jit(run), np.asarray(ids)


def ours(mix, episodes, ticks, seed, out, batch=8, cfg=None, map_n=8, quiet=False):
    """Runs `episodes` episodes of our engine (in batches of `batch` vmapped envs) and appends one
    JSON line per episode to `out` (None: returns the list of episode dicts instead)."""
    import jax

    import nmmo_jax as nj

    cfg = cfg or nj.Config(map_n=map_n)
    batch = min(batch, episodes)
    run, ids = make_runner(cfg, mix, ticks, batch)
    rows = []
    for b in range(-(-episodes // batch)):
        t0 = time.perf_counter()
        stats = jax.tree.map(np.asarray, run(jax.random.key(seed + b)))
        wall = time.perf_counter() - t0
        for i in range(min(batch, episodes - b * batch)):
            row = episode_row(jax.tree.map(lambda x, i=i: x[i], stats), ids, seed + b, wall / batch)
            rows.append(row)
            if out:
                with open(out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
        if not quiet:
            print(f"batch {b}: {batch} episodes in {wall:.1f} s", flush=True)
    return rows


def episode_row(s, ids, seed, wall):
    """One episode's statistics in the reference driver's JSON layout."""
    steps = int(s["steps"])
    alive = s["alive"].astype(bool)
    alive[steps:] = False
    npc = s["npc_count"].astype(np.int64)
    npc[steps:] = 0
    return {
        "seed": int(seed),
        "map_id": int(s["map_id"]),
        "steps": steps,
        "policy": ids.tolist(),
        "death_tick": s["death_tick"].tolist(),
        "alive_by_policy": [alive[:, ids == p].sum(1).tolist() for p in range(4)],
        "npc_count": npc.tolist(),
        "counts": {k: v.tolist() for k, v in s["counts"].items()},
        "items": {k: v.tolist() for k, v in s["items"].items()},
        "hits": s["hits"].tolist(),
        "gold": {k: v.tolist() for k, v in s["gold"].items()},
        "level_up": s["level_up"].tolist(),
        "kills_player": s["kills_player"].tolist(),
        "kills_npc": s["kills_npc"].tolist(),
        "kill_style": s["kill_style"].tolist(),
        "npc_kills_of_players": int(s["npc_kills_of_players"]),
        "npc_damage_proxy": s["npc_damage_proxy"].tolist(),
        "wall_s": wall,
    }


def reference(mix, episodes, ticks, seed, out, map_n=8, workdir=None):
    """Runs bench/parity_reference.py under the reference's virtualenv (a subprocess)."""
    cmd = [
        REF_PYTHON,
        os.path.join(ROOT, "bench", "parity_reference.py"),
        "--mix",
        mix,
        "--episodes",
        str(episodes),
        "--ticks",
        str(ticks),
        "--seed",
        str(seed),
        "--map-n",
        str(map_n),
        "--out",
        os.path.abspath(out),
    ]
    if workdir:
        cmd += ["--workdir", workdir]
    subprocess.run(cmd, check=True)


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------
def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def per_agent(ep, ticks):
    """{statistic name: float [N]} of one episode (every per-player statistic)."""
    n = len(ep["policy"])
    death = np.asarray(ep["death_tick"])
    out = {"lifetime": np.where(death > 0, death, ticks).astype(float)}
    for t in (64, 128, 256, ticks):
        if t <= ticks:
            out[f"alive at tick {t}"] = ((death == 0) | (death > t)).astype(float)
    counts = {k: np.asarray(v, float) for k, v in ep["counts"].items()}
    for name in (
        "EAT_FOOD",
        "DRINK_WATER",
        "HARVEST_ITEM",
        "CONSUME_ITEM",
        "EQUIP_ITEM",
        "LIST_ITEM",
        "BUY_ITEM",
        "LOOT_ITEM",
        "FIRE_AMMO",
        "LEVEL_UP",
    ):
        out[f"events {name}"] = counts[name]
    harvest = np.asarray(ep["items"]["HARVEST_ITEM"], float)  # [N, 18, L]
    for t in sorted(ITEM_NAMES):
        if t >= 5:
            out[f"harvest {ITEM_NAMES[t]}"] = harvest[:, t].sum(-1)
            for lv in (1, 2, 3):
                out[f"harvest {ITEM_NAMES[t]} L{lv}"] = harvest[:, t, lv - 1]
            out[f"harvest {ITEM_NAMES[t]} L4+"] = harvest[:, t, 3:].sum(-1)
    equip = np.asarray(ep["items"]["EQUIP_ITEM"], float)
    if equip.ndim == 3:
        equip = equip.sum(-1)
    for group, types in (("weapon", (5, 6, 7)), ("armor", (2, 3, 4)), ("tool", (8, 9, 10, 11, 12))):
        out[f"equipped {group}s"] = equip[:, list(types)].sum(-1)
    hits, kill_style = np.asarray(ep["hits"], float), np.asarray(ep["kill_style"], float)
    for s, style in enumerate(STYLES):
        out[f"hits {style}"] = hits[:, s]
        out[f"kills {style}"] = kill_style[:, s]
    out["player kills"] = np.asarray(ep["kills_player"], float)
    out["NPC kills"] = np.asarray(ep["kills_npc"], float)
    out["gold earned (sales)"] = np.asarray(ep["gold"]["EARN_GOLD"], float)
    out["gold looted"] = np.asarray(ep["gold"]["LOOT_GOLD"], float)
    out["gold spent (buys)"] = np.asarray(ep["gold"]["BUY_ITEM"], float)
    out["damage from NPCs (proxy)"] = np.asarray(ep["npc_damage_proxy"], float)
    if "npc_damage_exact" in ep:
        out["damage from NPCs (exact, ref only)"] = np.asarray(ep["npc_damage_exact"], float)
    level = np.maximum(np.asarray(ep["level_up"], float), 1)
    for k, skill in enumerate(SKILLS):
        out[f"level {skill}"] = level[:, k]
    assert all(v.shape == (n,) for v in out.values())
    return out


def per_episode(ep, ticks):
    """{(group, statistic): float} of one episode: per-player statistics averaged over the
    players of each policy present, and episode totals (group "episode")."""
    policy = np.asarray(ep["policy"])
    stats = per_agent(ep, ticks)
    out = {}
    for p in np.unique(policy):
        for name, v in stats.items():
            out[(POLICY_NAMES[p], name)] = float(v[policy == p].mean())
    npc = np.asarray(ep["npc_count"], float)[: ep["steps"]]
    out[("episode", "NPCs alive (mean over ticks)")] = float(npc.mean())
    for t in (4, 8, 16, 64, 128, 256, ticks):
        if t <= ep["steps"]:
            out[("episode", f"NPCs alive at tick {t}")] = float(npc[t - 1])
    out[("episode", "players killed by NPCs")] = float(ep["npc_kills_of_players"])
    out[("episode", "players killed by players")] = float(np.sum(ep["kills_player"]))
    out[("episode", "NPCs killed by players")] = float(np.sum(ep["kills_npc"]))
    deaths = float((np.asarray(ep["death_tick"]) > 0).sum())
    out[("episode", "deaths")] = deaths
    return out


def bootstrap(a, b, resamples=2000, seed=0):
    """(mean a, mean b, difference b - a, 95 % interval of the difference): resampling the
    episodes of each side independently."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a, float), np.asarray(b, float)
    ma = a[rng.integers(0, len(a), (resamples, len(a)))].mean(1)
    mb = b[rng.integers(0, len(b), (resamples, len(b)))].mean(1)
    lo, hi = np.percentile(mb - ma, [2.5, 97.5])
    return a.mean(), b.mean(), b.mean() - a.mean(), lo, hi, np.std(mb - ma)


STRONG_Z = 3.5  # |difference| / bootstrap standard error beyond which chance is implausible even
# among the ~200 statistics of a mix (a Bonferroni bound at 5 % over 200 tests is z = 3.7)


def compare(ref_rows, our_rows, ticks, resamples=2000):
    """Rows (group, statistic, ref mean, ours mean, diff, lo, hi, verdict), for every statistic
    that is measured on both sides and not identically 0 on both."""
    ref_eps = [per_episode(e, ticks) for e in ref_rows]
    our_eps = [per_episode(e, ticks) for e in our_rows]
    keys = [k for k in ref_eps[0] if all(k in e for e in ref_eps + our_eps)]
    out = []
    for k in keys:
        a = [e[k] for e in ref_eps]
        b = [e[k] for e in our_eps]
        if not np.any(a) and not np.any(b):
            continue
        ma, mb, d, lo, hi, se = bootstrap(a, b, resamples)
        z = d / se if se > 0 else (0.0 if d == 0 else np.inf)
        verdict = "within noise" if lo <= 0 <= hi else "differs"
        if verdict == "differs" and abs(z) > STRONG_Z:
            verdict = "differs (strong)"
        out.append((k[0], k[1], ma, mb, d, lo, hi, verdict))
    return out


def curves(rows, ticks, key):
    """float [episodes, ticks]: per tick the fraction alive of policy `key` (an int), or the NPC
    count (key "npc")."""
    out = []
    for e in rows:
        if key == "npc":
            v = np.asarray(e["npc_count"], float)
        else:
            size = int((np.asarray(e["policy"]) == key).sum())
            v = np.asarray(e["alive_by_policy"][key], float) / max(size, 1)
        out.append(np.pad(v, (0, ticks - len(v)))[:ticks])
    return np.asarray(out)


def band(x, resamples=2000, seed=0):
    """mean and 95 % bootstrap interval of the mean, per column of x [episodes, T]."""
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), (resamples, len(x)))].mean(1)
    return x.mean(0), np.percentile(means, 2.5, axis=0), np.percentile(means, 97.5, axis=0)


def plot(runs, ticks, plots):
    """Survival curves and NPC counts per tick with bands, and a forest plot per mix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(plots, exist_ok=True)
    for mix, (ref_rows, our_rows, table) in runs.items():
        present = sorted(set(ref_rows[0]["policy"]))
        fig, axes = plt.subplots(1, len(present) + 1, figsize=(4.2 * (len(present) + 1), 3.4))
        for ax, key in zip(axes, present + ["npc"], strict=True):
            for rows, name, color in ((ref_rows, "reference", "C0"), (our_rows, "nmmo-jax", "C1")):
                m, lo, hi = band(curves(rows, ticks, key))
                t = np.arange(1, ticks + 1)
                ax.plot(t, m, color=color, label=f"{name} ({len(rows)} ep.)")
                ax.fill_between(t, lo, hi, color=color, alpha=0.3)
            ax.set_title("NPCs alive" if key == "npc" else f"{POLICY_NAMES[key]}: fraction alive")
            ax.set_xlabel("tick")
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(plots, f"curves_{mix}.png"), dpi=90)
        plt.close(fig)

        rel = [
            (
                f"{g}: {s}",
                d / max(abs(ma), 1e-9),
                lo / max(abs(ma), 1e-9),
                hi / max(abs(ma), 1e-9),
                v,
            )
            for g, s, ma, mb, d, lo, hi, v in table
            if headline(s) and max(abs(ma), abs(mb)) > 0.05
        ]
        fig, ax = plt.subplots(figsize=(7.5, 0.16 * len(rel) + 1))
        y = np.arange(len(rel))[::-1]
        for yi, (_, d, lo, hi, v) in zip(y, rel, strict=True):
            color = {"differs": "C1", "differs (strong)": "C3"}.get(v, "C0")
            ax.plot([max(lo, -2), min(hi, 2)], [yi, yi], color=color, lw=1.5)
            ax.plot([np.clip(d, -2, 2)], [yi], "o", color=color, ms=3)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_yticks(y)
        ax.set_yticklabels([r[0] for r in rel], fontsize=6)
        ax.set_xlim(-2.05, 2.05)
        ax.set_xlabel("(nmmo-jax - reference) / reference mean, 95 % bootstrap CI (clipped at 2)")
        ax.set_title(f"mix {mix}: orange = CI excludes 0, red = also |z| > {STRONG_Z}", fontsize=9)
        fig.tight_layout()
        fig.savefig(os.path.join(plots, f"forest_{mix}.png"), dpi=90)
        plt.close(fig)


def headline(name):
    """The statistics of the forest plots: not the per-level and per-tick splits."""
    split = (" L1", " L2", " L3", " L4+", "alive at tick", "ref only", "NPCs alive at tick")
    return not any(part in name for part in split)


def fmt(x):
    if np.isnan(x):
        return "-"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def markdown(runs):
    lines = []
    for mix, (ref_rows, our_rows, table) in runs.items():
        lines += [
            f"### mix `{mix}` ({len(ref_rows)} reference / {len(our_rows)} nmmo-jax episodes)",
            "",
            "| group | statistic | reference | nmmo-jax | diff | 95 % CI | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for g, s, ma, mb, d, lo, hi, v in table:
            cell = f"**{v}**" if v.startswith("differs") else v
            lines.append(
                f"| {g} | {s} | {fmt(ma)} | {fmt(mb)} | {fmt(d)} | "
                f"[{fmt(lo)}, {fmt(hi)}] | {cell} |"
            )
        lines.append("")
    return "\n".join(lines)


def run_compare(runs_dir, mixes, ticks, plots, table_path, resamples=2000):
    runs = {}
    for mix in mixes:
        ref_path = os.path.join(runs_dir, f"ref_{mix}.jsonl")
        our_path = os.path.join(runs_dir, f"ours_{mix}.jsonl")
        if not (os.path.exists(ref_path) and os.path.exists(our_path)):
            continue
        ref_rows, our_rows = load(ref_path), load(our_path)
        ref_only = ["damage from NPCs (exact, ref only)"]
        table = compare(ref_rows, our_rows, ticks, resamples)
        ref_eps = [per_episode(e, ticks) for e in ref_rows]
        for p in sorted(set(ref_rows[0]["policy"])):
            for s in ref_only:
                v = [e.get((POLICY_NAMES[p], s), np.nan) for e in ref_eps]
                table.append(
                    (
                        POLICY_NAMES[p],
                        s,
                        float(np.mean(v)),
                        np.nan,
                        np.nan,
                        np.nan,
                        np.nan,
                        "ref only",
                    )
                )
        runs[mix] = (ref_rows, our_rows, table)
    if plots:
        plot(runs, ticks, plots)
    text = markdown(runs)
    if table_path:
        os.makedirs(os.path.dirname(os.path.abspath(table_path)), exist_ok=True)
        with open(table_path, "w", encoding="utf-8") as f:
            f.write(text)
    return runs, text


def reference_map_id(seed: int, map_n: int = 8) -> int:
    """The map the reference's `reset(seed=seed)` loads: its generator (nmmo.lib.seeding: PCG64
    of SeedSequence(seed)) first draws the 1024 meander directions, then `integers(MAP_N) + 1`
    (SPEC 16). For reference runs recorded before the driver wrote it."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    rng.integers(0, 4, size=1024)
    return int(rng.integers(map_n)) + 1


def map_ids(rows, ours: bool, map_n: int = 8) -> list[int]:
    """Each episode's map (1..map_n): the row's `map_id`, or recomputed from its seed for rows
    written before it was recorded (ours: the batch's reset keys, episode i of the batch with
    seed `seed + b` being the i-th row with that seed)."""
    out, seen = [], {}
    for r in rows:
        if r.get("map_id"):
            out.append(int(r["map_id"]))
            continue
        if not ours:
            out.append(reference_map_id(r["seed"], map_n))
            continue
        import jax

        from nmmo_jax.env import RESET_MAP_KEY

        i = seen.get(r["seed"], 0)
        seen[r["seed"]] = i + 1
        batch = sum(1 for q in rows if q["seed"] == r["seed"])
        reset_key, _ = jax.random.split(jax.random.key(r["seed"]))
        key = jax.random.fold_in(jax.random.split(reset_key, batch)[i], RESET_MAP_KEY)
        out.append(int(jax.random.randint(key, (), 0, map_n)) + 1)
    return out


def by_map(ref_rows, our_rows, events=("DRINK_WATER", "EAT_FOOD"), map_n=8) -> str:
    """Markdown: each policy's events per tick alive, map by map, on both engines, and ours
    reweighted to the reference's mix of maps. Statistics that depend on the map (water and
    food near the players) differ between the engines' means when the episodes drew the maps
    in different proportions; map by map they should agree."""
    maps = {"ref": map_ids(ref_rows, False, map_n), "ours": map_ids(our_rows, True, map_n)}
    rows = {"ref": ref_rows, "ours": our_rows}
    lines = []
    for side in ("ref", "ours"):
        counts = np.bincount(maps[side], minlength=map_n + 1)[1:]
        lines.append(f"episodes per map, {side}: " + ", ".join(str(c) for c in counts))
    lines.append("")
    for event in events:
        lines += [
            f"**{event} per tick alive** (reference / nmmo-jax, map by map)",
            "",
            "| policy | all maps | ours at the reference's map mix | "
            + " | ".join(f"map {m}" for m in range(1, map_n + 1))
            + " |",
            "|---|---|---|" + "---|" * map_n,
        ]
        for p in sorted(set(ref_rows[0]["policy"])):
            rate = {}
            for side in ("ref", "ours"):
                num, den = np.zeros(map_n + 1), np.zeros(map_n + 1)
                for r, m in zip(rows[side], maps[side], strict=True):
                    k = np.asarray(r["policy"]) == p
                    death = np.asarray(r["death_tick"])
                    alive = np.where(death == 0, r["steps"], death)
                    num[m] += np.asarray(r["counts"][event])[k].sum()
                    den[m] += alive[k].sum()
                rate[side] = (num, den)
            (rn, rd), (on, od) = rate["ref"], rate["ours"]
            per_map = np.where(od > 0, on / np.maximum(od, 1), np.nan)
            ref_mix = np.bincount(maps["ref"], minlength=map_n + 1).astype(float)
            have = (od > 0) & (ref_mix > 0)
            reweighted = (per_map[have] * ref_mix[have]).sum() / ref_mix[have].sum()
            cells = [
                f"{rn[m] / rd[m]:.3f} / {per_map[m]:.3f}" if rd[m] and od[m] else "-"
                for m in range(1, map_n + 1)
            ]
            lines.append(
                f"| {POLICY_NAMES[p]} | {rn.sum() / rd.sum():.3f} / {on.sum() / od.sum():.3f} | "
                f"{reweighted:.3f} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command", choices=("ours", "reference", "compare", "all", "bymap"))
    p.add_argument("--mix", choices=sorted(MIXES), default="mixed")
    p.add_argument("--mixes", default="forager,mixed")
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--ours-episodes", type=int, default=64)
    p.add_argument("--ticks", type=int, default=384)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--map-n", type=int, default=8)
    p.add_argument("--out")
    p.add_argument("--runs", default="runs/parity")
    p.add_argument("--plots", default=os.path.join(ROOT, "docs", "parity"))
    p.add_argument("--table", help="also write the markdown tables to this file")
    p.add_argument("--resamples", type=int, default=2000)
    args = p.parse_args(argv)
    mixes = args.mixes.split(",")
    if args.command == "ours":
        ours(args.mix, args.episodes, args.ticks, args.seed, args.out, args.batch, map_n=args.map_n)
    elif args.command == "reference":
        reference(args.mix, args.episodes, args.ticks, args.seed, args.out, args.map_n)
    elif args.command == "all":
        os.makedirs(args.runs, exist_ok=True)
        for i, mix in enumerate(mixes):
            reference(
                mix,
                args.episodes,
                args.ticks,
                1000 * (i + 1),
                os.path.join(args.runs, f"ref_{mix}.jsonl"),
                args.map_n,
            )
            ours(
                mix,
                args.ours_episodes,
                args.ticks,
                1000 * (i + 1),
                os.path.join(args.runs, f"ours_{mix}.jsonl"),
                args.batch,
                map_n=args.map_n,
            )
    if args.command == "bymap":
        for mix in mixes:
            ref = load(os.path.join(args.runs, f"ref_{mix}.jsonl"))
            our = load(os.path.join(args.runs, f"ours_{mix}.jsonl"))
            print(f"### mix `{mix}`\n\n" + by_map(ref, our, map_n=args.map_n))
    if args.command in ("compare", "all"):
        _, text = run_compare(args.runs, mixes, args.ticks, args.plots, args.table, args.resamples)
        print(text)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
