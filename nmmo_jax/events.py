"""The event log (SPEC 14.6): what each entity did, counted per code, for tasks and rewards.

Systems record into it; the task system reads it and never writes the state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

# Event codes (SPEC 14.6); the event log keeps one counter column per code.
EVENT_CODES = {
    "EAT_FOOD": 1,
    "DRINK_WATER": 2,
    "GO_FARTHEST": 3,
    "SEIZE_TILE": 4,
    "SCORE_HIT": 11,
    "PLAYER_KILL": 12,
    "FIRE_AMMO": 13,
    "CONSUME_ITEM": 21,
    "GIVE_ITEM": 22,
    "DESTROY_ITEM": 23,
    "HARVEST_ITEM": 24,
    "EQUIP_ITEM": 25,
    "LOOT_ITEM": 26,
    "GIVE_GOLD": 31,
    "LIST_ITEM": 32,
    "EARN_GOLD": 33,
    "BUY_ITEM": 34,
    "LOOT_GOLD": 35,
    "LEVEL_UP": 41,
    "AGENT_CULLED": 91,
}
# Counters are stored densely: column EVENT_COLUMN[code] of the event log holds that code.
EVENT_COLUMN = {code: i for i, code in enumerate(EVENT_CODES.values())}
N_EVENT_CODES = len(EVENT_CODES)


@struct.dataclass
class EventLog:
    """What happened, per entity (SPEC 14.6).

    `tick`: int16 [E, N_EVENT_CODES], how often each code was logged by each entity this step
    (column EVENT_COLUMN[code]);
    `episode`: the same, summed over the episode (what CountEvent-style predicates read);
    `go_farthest`: int32 [E], the progress value logged this step by GO_FARTHEST (0 = none).
    """

    tick: jax.Array
    episode: jax.Array
    go_farthest: jax.Array

    def start_tick(self) -> EventLog:
        """The log at the start of a step: this step's counts cleared, the episode's kept."""
        return self.replace(
            tick=jnp.zeros_like(self.tick), go_farthest=jnp.zeros_like(self.go_farthest)
        )

    def record(self, name: str, counts: jax.Array) -> EventLog:
        """Adds `counts` (int or bool [k], k <= E) to event `name` (e.g. "EAT_FOOD") of the first
        k entities in this step's and the episode's log; players are the first rows, so a
        players-only system passes its [player_n] array."""
        column = EVENT_COLUMN[EVENT_CODES[name]]
        rows = counts.shape[-1]
        return self.replace(
            tick=self.tick.at[..., :rows, column].add(counts.astype(self.tick.dtype)),
            episode=self.episode.at[..., :rows, column].add(counts.astype(self.episode.dtype)),
        )

    def count(self, name: str, episode: bool = True) -> jax.Array:
        """int32 [E]: how often event `name` (e.g. "EAT_FOOD") was logged per entity."""
        log = self.episode if episode else self.tick
        return log[..., EVENT_COLUMN[EVENT_CODES[name]]]


def empty_events(n_entities: int) -> EventLog:
    return EventLog(
        tick=jnp.zeros((n_entities, N_EVENT_CODES), jnp.int16),
        episode=jnp.zeros((n_entities, N_EVENT_CODES), jnp.int32),
        go_farthest=jnp.zeros((n_entities,), jnp.int32),
    )
