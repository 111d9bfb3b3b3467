"""NPC statistics against the reference (SPEC 6): NPCs draw randomness, so our engine is compared
with tests/data/reference_npc_stats.npz (tests/data/make_reference_npc_stats.py, documented
there) by statistics over episodes, not row by row.

Both sets use the Default config with every player standing still (no-op actions), 60 steps:
12 episodes with immortal=True and 8 with immortal=False (the reference: 12 and 8 env seeds; ours:
the same numbers of PRNG keys). Tolerance: a difference of two means over episodes must be within
3 standard errors of the difference (se^2 = var_ref / n_ref + var_ours / n_ours, sample variances
of the per-episode values) plus a small absolute slack (SLACK_* below, for statistics whose
spread over a few episodes can be ~0).

Slacks: 1 NPC on counts, 0.02 on type / level-bin fractions, 0.1 on the mean attack level,
0.05 on damage per step, 0.002 on the fraction of players hit, 0.5 on kills and live players.

MEASURED (ours with keys from jax.random.key(7) / key(8); reference seeds 0..11 / 100..107):
                          immortal (12 eps)             mortal (8 eps)
                          ours          reference       ours          reference
  NPCs after step 1       29.2          28.7            27.4          26.9
  NPCs after step 5       89.0          90.2            87.6          83.6
  NPCs after step 8       127.6         127.3           124.6         124.8
  NPCs after step >= 10   128           128             128           128
  type 1/2/3 fractions    .739/.217/.044 .765/.206/.029 .761/.203/.036 .728/.240/.032
  mean attack level       3.41          3.31            3.35          3.50
  (types and levels are the same at steps 10, 30 and 60: no NPC dies or respawns)
  largest |z| (diff/se): type 3 at 60 +2.05 (immortal), mean level -2.02 (mortal); the signs
  flip between the sets, so this reads as sampling noise, not a bias.
  damage to players, players hit, NPC kills of players: 0 in every episode, both engines.
  players alive: 128 through step 24, 0 from step 25 on (mortal: food/water deplete at 5 per
  tick and starvation + dehydration kill every standing player in step 25; `damage` is not set
  by starvation), both engines; immortal: 128 throughout.
So with standing players the damage / kill statistics are degenerate (NPCs never reach or never
attack players on the edge within 24 steps): they check only that nothing is hit.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj

DATA = np.load(__import__("pathlib").Path(__file__).parent / "data" / "reference_npc_stats.npz")
STEPS = 60
SNAP = tuple(int(s) for s in DATA["snap_steps"])  # (0, 10, 30, 60)
SLACK_COUNT = 1.0  # NPCs, on mean counts
SLACK_FRACTION = 0.02  # on type fractions
SLACK_LEVEL = 0.1  # on the mean attack level


@functools.cache
def run(immortal: bool, episodes: int, seed: int):
    """Our engine's statistics, the same fields as the reference's (arrays [E, T + 1] or
    [E, len(SNAP), bins])."""
    cfg = nj.Config(immortal=immortal)
    env = nj.Env(cfg)
    p, e = cfg.player_n, cfg.n_entities
    noop = env.noop_actions

    def measure(state):
        ent = state.entities
        npc_alive = ent.alive[p:e]
        types = jnp.sum(
            (ent.npc_type[p:e, None] == jnp.arange(4)) & npc_alive[:, None], 0, dtype=jnp.int32
        )
        level = jnp.maximum(
            jnp.maximum(ent.melee_level[p:e], ent.range_level[p:e]), ent.mage_level[p:e]
        )
        levels = jnp.sum((level[:, None] == jnp.arange(11)) & npc_alive[:, None], 0, jnp.int32)
        players = ent.alive[:p]
        dmg = jnp.where(players, ent.damage[:p], 0)
        kills = jnp.sum(state.events.kills[p:e, 0], dtype=jnp.int32)
        return {
            "npc_alive": jnp.sum(npc_alive, dtype=jnp.int32),
            "type_hist": types,
            "level_hist": levels,
            "damage": jnp.sum(dmg, dtype=jnp.int32),
            "hit": jnp.sum(dmg > 0, dtype=jnp.int32),
            "kills_total": kills,
            "players_alive": jnp.sum(players, dtype=jnp.int32),
        }

    def episode(key):
        reset_key, step_key = jax.random.split(key)
        _, state = env.reset(reset_key)

        def body(state, k):
            _, state, *_ = env.step(k, state, noop)
            return state, measure(state)

        _, traj = jax.lax.scan(body, state, jax.random.split(step_key, STEPS))
        first = measure(state)
        return jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, traj)

    keys = jax.random.split(jax.random.key(seed), episodes)
    out = jax.tree.map(np.asarray, jax.jit(jax.vmap(episode))(keys))
    kills = out.pop("kills_total")
    out["npc_kills"] = np.diff(kills, axis=1, prepend=0)
    out["type_hist"] = out["type_hist"][:, list(SNAP)]
    out["level_hist"] = out["level_hist"][:, list(SNAP)]
    return out


def ref(prefix):
    n = len(DATA[f"{prefix}_seeds"])
    return {k[len(prefix) + 1 :]: DATA[k] for k in DATA.files if k.startswith(prefix + "_")}, n


def close(ours, theirs, slack, what):
    """Per-episode values [E_ours], [E_ref]: means within 3 standard errors + slack."""
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    se = np.sqrt(theirs.var(ddof=1) / len(theirs) + ours.var(ddof=1) / len(ours))
    diff = abs(ours.mean() - theirs.mean())
    assert diff <= 3 * se + slack, (
        f"{what}: ours {ours.mean():.4f} (sd {ours.std(ddof=1):.4f}), reference "
        f"{theirs.mean():.4f} (sd {theirs.std(ddof=1):.4f}), |diff| {diff:.4f} > "
        f"3 se {3 * se:.4f} + {slack}"
    )


def fractions(hist):
    return hist / np.maximum(hist.sum(-1, keepdims=True), 1)


def mean_level(hist):
    return (hist * np.arange(hist.shape[-1])).sum(-1) / np.maximum(hist.sum(-1), 1)


SETS = (("imm", True), ("mort", False))


@pytest.mark.parametrize("prefix,immortal", SETS)
def test_npc_count(prefix, immortal):
    theirs, n = ref(prefix)
    ours = run(immortal, n, 7 if immortal else 8)
    for t in (0, 1, 2, 3, 5, 8, 10, 30, 60):
        close(ours["npc_alive"][:, t], theirs["npc_alive"][:, t], SLACK_COUNT, f"NPCs at {t}")
    # the plateau at NPC_N once spawned (nothing kills NPCs when players stand)
    assert (ours["npc_alive"][:, 10:] == 128).all()


@pytest.mark.parametrize("prefix,immortal", SETS)
def test_npc_types_and_levels(prefix, immortal):
    theirs, n = ref(prefix)
    ours = run(immortal, n, 7 if immortal else 8)
    for s, t in enumerate(SNAP):
        fo, ft = fractions(ours["type_hist"][:, s]), fractions(theirs["type_hist"][:, s])
        for ty in (1, 2, 3):
            close(fo[:, ty], ft[:, ty], SLACK_FRACTION, f"type {ty} fraction at {t}")
        close(
            mean_level(ours["level_hist"][:, s]),
            mean_level(theirs["level_hist"][:, s]),
            SLACK_LEVEL,
            f"mean attack level at {t}",
        )
    # the level distribution pooled over episodes at step 60: each bin's fraction
    lo = ours["level_hist"][:, -1].sum(0) / ours["level_hist"][:, -1].sum()
    lt = theirs["level_hist"][:, -1].sum(0) / theirs["level_hist"][:, -1].sum()
    for lv in range(11):
        close(
            fractions(ours["level_hist"][:, -1])[:, lv],
            fractions(theirs["level_hist"][:, -1])[:, lv],
            SLACK_FRACTION,
            f"level {lv} fraction at 60 (pooled ours {lo[lv]:.3f} ref {lt[lv]:.3f})",
        )


@pytest.mark.parametrize("prefix,immortal", SETS)
def test_damage_and_deaths(prefix, immortal):
    theirs, n = ref(prefix)
    ours = run(immortal, n, 7 if immortal else 8)
    close(ours["damage"].mean(1), theirs["damage"].mean(1), 0.05, "damage per step")
    close(ours["hit"].mean(1) / 128, theirs["hit"].mean(1) / 128, 0.002, "fraction hit")
    assert ours["npc_kills"].sum() == theirs["npc_kills"].sum() == 0 or not immortal
    close(ours["npc_kills"].sum(1), theirs["npc_kills"].sum(1), 0.5, "NPC kills of players")
    for t in range(0, STEPS + 1, 5):
        close(ours["players_alive"][:, t], theirs["players_alive"][:, t], 0.5, f"players at {t}")
