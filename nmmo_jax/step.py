"""The tick: the fixed order in which the systems run (SPEC 13.1)."""

from __future__ import annotations

import jax

from nmmo_jax.config import Config
from nmmo_jax.state import WorldState
from nmmo_jax.systems import movement, survival

# Heads of the action array, in column order, with their number of choices. Later systems append
# their heads here (SPEC 12.1 lists the reference's).
ACTION_HEADS = (("move", movement.N_DIRECTIONS),)
HEAD_INDEX = {name: i for i, (name, _) in enumerate(ACTION_HEADS)}
NOOP_ACTION = (movement.STAY,)

# Keys of the systems that draw randomness: jax.random.fold_in(step_key, SYSTEM_ID).
SURVIVAL_KEY = 1


def step_world(key: jax.Array, state: WorldState, actions: jax.Array, cfg: Config) -> WorldState:
    """Advances one environment by one tick. `actions`: int32 [player_n, len(ACTION_HEADS)].

    Order as in the reference: entity updates (SPEC 3.3), then the actions by priority (here:
    Move, 60), then the dead are culled and the tick advances; depleted tiles regrow when the new
    tick reaches their regrowth tick (TileMap.regrow_at), i.e. at the end of the step (SPEC 2.1).
    """
    state = state.replace(events=state.events.start_tick())
    state = survival.tick_entities(state)
    state = survival.update_players(state, jax.random.fold_in(key, SURVIVAL_KEY), cfg)
    n = cfg.player_n
    # Only entities still alive after their update act (starvation kills before the actions).
    can_act = state.entities.alive[:n] & (state.entities.health[:n] > 0)
    state = movement.move_players(state, actions[:, HEAD_INDEX["move"]], can_act, cfg)
    state = survival.cull(state)
    return state.replace(tick=state.tick + 1)
