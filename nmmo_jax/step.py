"""The tick: the fixed order in which the systems run (SPEC 13.1), and the action heads."""

from __future__ import annotations

import jax

from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState
from nmmo_jax.systems import harvest, items, movement, survival


def action_heads(cfg: Config) -> tuple[tuple[str, int], ...]:
    """(name, choices) of every column of the action array, in column order. The heads are the
    same whichever systems are on (a switched-off system's head only allows its no-op), so the
    array shape depends on the capacities alone. Later systems append their heads here (SPEC
    12.1 lists the reference's)."""
    return (
        ("move", movement.N_DIRECTIONS),
        ("use", items.n_choices(cfg)),
        ("destroy", items.n_choices(cfg)),
    )


def noop_action(cfg: Config) -> tuple[int, ...]:
    """The no-op choice of every head: Stay, and the trailing no-op index of the others."""
    return (movement.STAY, cfg.item_inventory_capacity, cfg.item_inventory_capacity)


ACTION_HEADS = action_heads(Config())  # the Default config's heads
HEAD_INDEX = {name: i for i, (name, _) in enumerate(ACTION_HEADS)}

# The uniforms of a tick, [player_n, N_UNIFORMS], drawn in one call (ops.uniforms: a hash of the
# step key, no threefry loop) and split by column among the systems that need randomness.
SURVIVAL_UNIFORMS = slice(0, 1)  # foilage regrowth
HARVEST_UNIFORMS = slice(1, 1 + harvest.N_UNIFORMS)
N_UNIFORMS = HARVEST_UNIFORMS.stop


def step_world(key: jax.Array, state: WorldState, actions: jax.Array, cfg: Config) -> WorldState:
    """Advances one environment by one tick. `actions`: int32 [player_n, len(action_heads)].

    Order as in the reference (SPEC 13.1): the item rows the actions name are read from the
    observation the agents saw; entity updates (SPEC 3.3: regeneration and starvation, the
    professions, water and food); the actions by priority (Use 10, Destroy 40, Move 60); the dead
    are culled (their items destroyed) and the tick advances. Depleted tiles regrow when the new
    tick reaches their regrowth tick (TileMap.regrow_at), i.e. at the end of the step (SPEC 2.1).
    Within the reference's per-player update the professions run after regeneration and before
    water and food; no quantity links them, so running them as whole systems keeps the results.
    """
    n = cfg.player_n
    if cfg.item_system_enabled:
        use_id, destroy_id = items.targets(
            state, actions[:, HEAD_INDEX["use"]], actions[:, HEAD_INDEX["destroy"]]
        )
    state = state.replace(events=state.events.start_tick())
    state = survival.tick_entities(state)
    if cfg.item_system_enabled and cfg.equipment_system_enabled:
        state = items.refresh_item_level(state, cfg)
    u = ops.uniforms(key, (n, N_UNIFORMS))
    state = survival.update_players(state, u[:, SURVIVAL_UNIFORMS], cfg)
    if cfg.profession_system_enabled:
        state = harvest.harvest(state, u[:, HARVEST_UNIFORMS], cfg)
    # Only entities still alive after their update act (starvation kills before the actions).
    can_act = state.entities.alive[:n] & (state.entities.health[:n] > 0)
    if cfg.item_system_enabled:
        state = items.use(state, use_id, can_act, cfg)
        state = items.destroy(state, destroy_id, can_act, cfg)
    state = movement.move_players(state, actions[:, HEAD_INDEX["move"]], can_act, cfg)
    alive_before = state.entities.alive[:n]
    state = survival.cull(state)
    if cfg.item_system_enabled:
        state = items.discard_dead(state, alive_before & ~state.entities.alive[:n])
    return state.replace(tick=state.tick + 1)
