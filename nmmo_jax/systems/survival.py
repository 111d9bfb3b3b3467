"""Survival: the per-tick entity update, food, water, regeneration and foraging (SPEC 3.3)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import material as mat
from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState


def tick_entities(state: WorldState) -> WorldState:
    """The generic entity update at the start of a step, for every live entity (SPEC 3.3 step 1).

    An attacker is forgotten once a tick passes without damage; freeze counts down; the damage of
    the last tick is cleared; time_alive counts this step.
    """
    ent = state.entities
    live = ent.alive
    ent = ent.replace(
        attacker_id=jnp.where(live & (ent.damage == 0), 0, ent.attacker_id),
        freeze=jnp.where(live, jnp.maximum(ent.freeze - 1, 0), ent.freeze),
        damage=jnp.where(live, 0, ent.damage),
        time_alive=ent.time_alive + live.astype(jnp.int32),
    )
    return state.replace(entities=ent)


def update_players(
    state: WorldState, u: jax.Array, cfg: Config, live: jax.Array | None = None
) -> WorldState:
    """Health, water and food of every live player, in the reference order (SPEC 3.3 steps 4-6).

    Health regenerates while food and water both exceed half their maximum, and an empty food or
    water bar costs health; both read last tick's values. Then water and food deplete, an agent
    next to water drinks to full, and an agent standing on foilage eats it (the lowest id on a
    shared tile eats; the tile depletes and later regrows, SPEC 2.1). `u`: float32 [N, 1]
    uniforms of this tick (the regrowth draw). `live`: bool [N], the players that update (default
    the live ones; the death fog leaves out those it killed this tick, SPEC 3.3 step 3).
    """
    n = cfg.player_n
    ent = state.entities
    live = ent.alive[:n] if live is None else live
    health, food, water = ent.health[:n], ent.food[:n], ent.water[:n]
    row, col = ent.row[:n], ent.col[:n]
    max_health = cfg.player_base_health

    if cfg.player_health_increment > 0:
        health = jnp.where(
            live, jnp.minimum(health + cfg.player_health_increment, max_health), health
        )

    if cfg.immortal:  # IMMORTAL players neither consume food and water nor take damage
        return state.replace(entities=ent.replace(health=ent.health.at[:n].set(health)))

    resilient = ent.resilient[:n]

    def damage(rate):  # resilient players take rate x RESOURCE_DAMAGE_REDUCTION, truncated
        return jnp.where(resilient, int(rate * cfg.resource_damage_reduction), rate)

    fed = (food > cfg.regen_threshold) & (water > cfg.regen_threshold)
    new_health = jnp.where(fed, jnp.minimum(health + cfg.regen_amount, max_health), health)
    new_health = jnp.maximum(
        new_health - jnp.where(food == 0, damage(cfg.resource_starvation_rate), 0), 0
    )
    new_health = jnp.maximum(
        new_health - jnp.where(water == 0, damage(cfg.resource_dehydration_rate), 0), 0
    )
    health = jnp.where(live, new_health, health)

    restore = int(cfg.resource_base * cfg.resource_harvest_restore_fraction)
    tiles = state.tiles

    # Water: deplete, then drink from any adjacent water tile (water never depletes).
    drinks = live & (ops.neighbours(tiles.base, row, col) == mat.WATER).any(axis=-1)
    new_water = jnp.maximum(water - cfg.resource_depletion_rate, 0)
    new_water = jnp.where(drinks, jnp.minimum(new_water + restore, cfg.resource_base), new_water)
    water = jnp.where(live, new_water, water)

    # Food: deplete, then eat the foilage underfoot if it is not depleted.
    on_foilage = (ops.gather(tiles.base, row, col) == mat.FOILAGE) & (
        state.tick >= ops.gather(tiles.regrow_at, row, col)
    )
    eats = ops.first_claimant(row * cfg.map_size + col, live & on_foilage)
    new_food = jnp.maximum(food - cfg.resource_depletion_rate, 0)
    new_food = jnp.where(eats, jnp.minimum(new_food + restore, cfg.resource_base), new_food)
    food = jnp.where(live, new_food, food)

    delay = ops.geometric_delay(u[:, 0], jnp.float32(cfg.resource_foilage_respawn))
    eaten_cell = jnp.where(eats, row * cfg.map_size + col, cfg.map_size * cfg.map_size)
    regrow_at = (
        tiles.regrow_at.reshape(-1)
        .at[eaten_cell]
        .set(jnp.minimum(state.tick + delay, ops.INT16_MAX).astype(jnp.int16), mode="drop")
        .reshape(tiles.regrow_at.shape)
    )

    events = state.events.record("DRINK_WATER", drinks).record("EAT_FOOD", eats)
    ent = ent.replace(
        health=ent.health.at[:n].set(health),
        food=ent.food.at[:n].set(food),
        water=ent.water.at[:n].set(water),
    )
    return state.replace(entities=ent, tiles=tiles.replace(regrow_at=regrow_at), events=events)


def cull(state: WorldState) -> WorldState:
    """Entities whose health reached 0 are dead from now on (SPEC 3.4)."""
    ent = state.entities
    return state.replace(entities=ent.replace(alive=ent.alive & (ent.health > 0)))
