"""The tick: the fixed order in which the systems run (SPEC 13.1), and the action heads."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState
from nmmo_jax.systems import combat, fog, harvest, items, movement, npc, survival


def action_heads(cfg: Config) -> tuple[tuple[str, int], ...]:
    """(name, choices) of every column of the action array, in column order. The heads are the
    same whichever systems are on (a switched-off system's head only allows its no-op), so the
    array shape depends on the capacities alone. Later systems append their heads here (SPEC
    12.1 lists the reference's)."""
    return (
        ("move", movement.N_DIRECTIONS),
        ("use", items.n_choices(cfg)),
        ("destroy", items.n_choices(cfg)),
        ("attack_style", combat.N_STYLES),
        ("attack_target", combat.n_targets(cfg)),
    )


def noop_action(cfg: Config) -> tuple[int, ...]:
    """The no-op choice of every head: Stay, and the trailing no-op index of the others (a
    style is only read with a target, so melee)."""
    capacity = cfg.item_inventory_capacity
    return (movement.STAY, capacity, capacity, combat.MELEE, cfg.n_entities)


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
    observation the agents saw; the NPCs decide from the start-of-step state; entity updates
    (SPEC 3.3: regeneration and starvation, the professions, water and food; NPC regeneration);
    the actions by priority (Use 10, Destroy 40, Attack 50 with the players' attacks before the
    NPCs', Move 60); the dead are culled (their items destroyed), the tick advances and dead
    NPCs are replaced (SPEC 6.1). Depleted tiles regrow when the new tick reaches their
    regrowth tick (TileMap.regrow_at), i.e. at the end of the step (SPEC 2.1). The death fog
    (systems/fog.py, off unless DEATH_FOG_ONSET is set) hurts players right after the generic
    entity update, and a player it kills skips the rest of its update; the fog advances after
    the tick does (SPEC 3.3, 10, 13.1 f).
    Within the reference's per-player update the professions run after regeneration and before
    water and food; no quantity links them, so running them as whole systems keeps the results.
    """
    n = cfg.player_n
    npcs_on = cfg.npc_system_enabled and cfg.npc_n > 0
    if cfg.item_system_enabled:
        use_id, destroy_id = items.targets(
            state, actions[:, HEAD_INDEX["use"]], actions[:, HEAD_INDEX["destroy"]]
        )
    if npcs_on:
        state, npc_move, npc_attack = npc.decide(state, key, cfg)
    state = state.replace(events=state.events.start_tick())
    state = survival.tick_entities(state)
    if cfg.item_system_enabled and cfg.equipment_system_enabled:
        state = items.refresh_item_level(state, cfg)
    # Death fog damage (SPEC 3.3 step 2); a player it kills stops its update (step 3).
    state, updating = fog.damage(state, cfg)
    u = ops.uniforms(key, (n, N_UNIFORMS))
    state = survival.update_players(state, u[:, SURVIVAL_UNIFORMS], cfg, live=updating)
    if cfg.profession_system_enabled:
        state = harvest.harvest(state, u[:, HARVEST_UNIFORMS], cfg, live=updating)
    if npcs_on:
        state = npc.update(state, cfg)
    # Only entities still alive after their update act (starvation kills before the actions).
    ent = state.entities
    can_act = ent.alive & (ent.health > 0)
    if cfg.item_system_enabled:
        state = items.use(state, use_id, can_act[:n], cfg)
        state = items.destroy(state, destroy_id, can_act[:n], cfg)
    if cfg.combat_system_enabled or npcs_on:
        state = _attacks(key, state, actions, can_act, npc_attack if npcs_on else None, cfg)
    # An entity killed by an attack of this tick does not move.
    can_move = state.entities.alive & (state.entities.health > 0)
    state = movement.move_players(state, actions[:, HEAD_INDEX["move"]], can_move[:n], cfg)
    if npcs_on:
        state = npc.move(state, npc_move, cfg)
    alive_before = state.entities.alive
    state = survival.cull(state)
    died = alive_before & ~state.entities.alive
    if cfg.item_system_enabled:
        state = items.discard_dead(state, died[:n])
    state = npc.bury(state, died, cfg)
    state = state.replace(tick=state.tick + 1, events=state.events.end_tick())
    state = fog.advance(state, cfg)
    if npcs_on and cfg.npc_default_refill_dead_npcs:
        state = npc.refill(state, key, cfg)
    return state


def _attacks(key, state: WorldState, actions, can_act, npc_attack, cfg: Config) -> WorldState:
    """The Attack requests of every entity, [E]: the players' heads, the NPCs' decisions."""
    n, size = cfg.player_n, cfg.n_entities
    ent = state.entities
    target = actions[:, HEAD_INDEX["attack_target"]]
    style = actions[:, HEAD_INDEX["attack_style"]]
    wants = (target >= 0) & (target < size)
    if not cfg.combat_system_enabled:
        wants = jnp.zeros_like(wants)
    npc_wants = npc_attack if npc_attack is not None else jnp.zeros((size - n,), bool)
    wants = jnp.concatenate([wants, npc_wants])
    target = jnp.concatenate([target, jnp.maximum(ent.target[n:], 0)])
    style = jnp.concatenate([style, ent.style[n:]])
    can_act = can_act & (ent.freeze == 0)
    return combat.attack(state, key, wants, target, style, can_act, cfg)
