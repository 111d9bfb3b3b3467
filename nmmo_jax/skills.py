"""Skills: XP, levels from the threshold table, player and attack level (SPEC 4.1).

The eight skills live in the entity table's `<skill>_level` / `<skill>_exp` columns; SKILL_ID is
the reference's (1 melee .. 8 alchemy), the `type` of LEVEL_UP events.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax.config import Config
from nmmo_jax.state import SKILLS, EntityTable

SKILL_ID = {name: i + 1 for i, name in enumerate(SKILLS)}
COMBAT_SKILLS = SKILLS[:3]


def level_at_exp(exp: jax.Array, cfg: Config) -> jax.Array:
    """int32: the number of thresholds <= exp, capped at PROGRESSION_LEVEL_MAX (the
    reference's ExperienceCalculator.level_at_exp)."""
    thresholds = cfg.progression_exp_threshold[: cfg.progression_level_max]
    level = sum((exp >= t).astype(jnp.int32) for t in thresholds)
    return jnp.minimum(level, cfg.progression_level_max)


def add_xp(
    ent: EntityTable, skill: str, xp: int, gains: jax.Array, cfg: Config
) -> tuple[EntityTable, jax.Array, jax.Array]:
    """Adds `xp` to `skill` of the first k rows where `gains` [k] (Skill.add_xp).

    Returns (entities, leveled bool [k], level int32 [k]): the level only goes up, and a row that
    rose (by one level or several) logs one LEVEL_UP with its final level (SPEC 4.1, 14.6).
    Without the progression system nothing changes.
    """
    k = gains.shape[-1]
    level = getattr(ent, f"{skill}_level")[:k]
    if not cfg.progression_system_enabled or xp == 0:
        return ent, jnp.zeros_like(gains), level
    exp = getattr(ent, f"{skill}_exp")[:k]
    exp = jnp.where(gains, exp + xp, exp)
    new_level = level_at_exp(exp, cfg)
    leveled = gains & (new_level > level)
    level = jnp.where(leveled, new_level, level)
    ent = ent.replace(
        **{
            f"{skill}_exp": getattr(ent, f"{skill}_exp").at[:k].set(exp),
            f"{skill}_level": getattr(ent, f"{skill}_level").at[:k].set(level),
        }
    )
    return ent, leveled, level


def skill_levels(ent: EntityTable, k: int) -> jax.Array:
    """int32 [k, 8]: the levels of the first k rows, skills in SKILLS order."""
    return jnp.stack([getattr(ent, f"{s}_level")[:k] for s in SKILLS], axis=-1)


def player_level(ent: EntityTable, k: int) -> jax.Array:
    """int32 [k]: max level over all skills, at least 1 (armour, rations and potions are gated
    by it, and it sets a player's skill defense; SPEC 4.1)."""
    return jnp.maximum(skill_levels(ent, k).max(axis=-1), 1)


def attack_level(ent: EntityTable, k: int) -> jax.Array:
    """int32 [k]: max(melee, range, mage level) (SPEC 4.1)."""
    return skill_levels(ent, k)[..., :3].max(axis=-1)


def requirement_levels(ent: EntityTable, k: int) -> jax.Array:
    """int32 [k, 9]: column 0 the player level, columns 1..8 the skill levels: the levels that
    gate items, indexed by items.REQUIREMENT (SPEC 7.1)."""
    return jnp.concatenate([player_level(ent, k)[:, None], skill_levels(ent, k)], axis=-1)


def in_combat(ent: EntityTable, tick, k: int, cfg: Config) -> jax.Array:
    """bool [k]: attacked or attacking within the last COMBAT_STATUS_DURATION ticks (SPEC 5.5),
    measured at `tick` (the reference's realm.tick during a step, CurrentTick for masks)."""
    last = ent.latest_combat_tick[:k]
    return (last != 0) & (tick - last < cfg.combat_status_duration)
