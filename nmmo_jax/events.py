"""The event log (SPEC 14.6): what each entity did, for tasks and rewards.

Systems record into it; the task system reads it and never writes the state.

Layout, and why. The reference keeps every event row of the episode and its predicates filter
them (SPEC 14.3: "sum of `number` of HARVEST_ITEM events of type t with level >= l by the
subject's members"). A growing table does not fit fixed shapes, and a fixed-capacity row buffer
would make each predicate a scan over all rows of the episode. Every built-in predicate reads
one of three aggregates, so those are what we keep, updated by scatter-adds as events happen:

* `tick` / `episode`: int [E, N_EVENT_CODES], how often each code was logged per entity (this
  step / the whole episode): CountEvent, the exploration bonus of the PufferLib baseline.
* `items`: int32 [player_n, N_ITEM_KEYS, LEVELS], the sum of the `number` field of the item
  events per (code, item type) key (ITEM_EVENT_KEYS) and item level 1..LEVELS (index level - 1):
  "harvested >= q Potions of level >= l" is `items[:, key, l - 1:].sum(-1) >= q`.
* `level_up`: int32 [player_n, 8], the highest level logged by LEVEL_UP per skill (0 = none):
  "reached level l in skill s".
* `go_farthest`: int32 [E], the progress logged by GO_FARTHEST this step (0 = none).
* `hits`: int32 [player_n, 3], SCORE_HIT events per combat style (ScoreHit); and their summed
  damage would be `number`, which no predicate reads.
* `kills`: int32 [E, 2, KILL_LEVELS], PLAYER_KILL events by (victim is an NPC, victim attack
  level): "defeated >= k NPCs of level >= l" (DefeatEntity).
* `gold`: int32 [E, N_GOLD_KEYS], gold amounts of the gold events (GOLD_KEYS: LOOT_GOLD, EARN_GOLD
  and the price of BUY_ITEM): EarnGold, SpendGold, MakeProfit.

What happened in one step, by key, is the difference of the aggregates before and after it, so
per-tick rows are not stored. The `target_ent` field (an item id) is not kept: no predicate
reads it.

Every code of SPEC 14.6, the entity it is logged for (at the reference's tick, within the step
that caused it), and where its fields go:

| code | logged for | fields kept |
|---|---|---|
| EAT_FOOD, DRINK_WATER | the player | count |
| GO_FARTHEST | the player | count; `go_farthest` = number (this step); best: `exploration` |
| SEIZE_TILE | the seizing player (KingoftheHill's centre tile, systems/seize.py) | count |
| SCORE_HIT | the attacking player | count; `hits` by type (style) |
| PLAYER_KILL | the killer (player or NPC) | count; `kills` by victim kind and level |
| FIRE_AMMO | the player | count; `items` number (the quantity left) by type and level |
| CONSUME_ITEM, HARVEST_ITEM, | the player (looter) | count; `items` number by type, level |
| EQUIP_ITEM, LOOT_ITEM | | |
| GIVE_ITEM, GIVE_GOLD, DESTROY_ITEM | the giver / the player | count |
| LIST_ITEM | the seller | count; `items` number by type and level (the price is not kept) |
| BUY_ITEM | the buyer | count; `items` number by type and level; `gold` (the price) |
| EARN_GOLD | the seller | count; `gold` (the price) |
| LOOT_GOLD | the looter (a player or an NPC) | count; `gold` (the amount) |
| LEVEL_UP | the player | count; `level_up` best level by type (skill) |
| AGENT_CULLED | the removed player | count (in the step of its death) |
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from nmmo_jax import items as it

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
# Item events keep `number` sums by (code, item type) and level; the types each code can carry
# (SPEC 7.1, 14.6). Later systems add their codes here (LOOT_ITEM, LIST_ITEM, BUY_ITEM, ...).
ITEM_EVENT_TYPES = {
    "HARVEST_ITEM": it.CONSUMABLES + it.AMMUNITION + it.WEAPONS,  # weapons: the 2.5 % drops
    "CONSUME_ITEM": it.CONSUMABLES,
    "EQUIP_ITEM": it.ARMOR + it.WEAPONS + it.TOOLS + it.AMMUNITION,
    # FIRE_AMMO's `number` is the quantity left after the shot (the quirk of SPEC 14.3, 18.5)
    "FIRE_AMMO": it.AMMUNITION,
    "LOOT_ITEM": it.ITEM_TYPES,
    "LIST_ITEM": it.ITEM_TYPES,
    "BUY_ITEM": it.ITEM_TYPES,
}
ITEM_EVENT_KEYS = tuple(
    (code, item_type) for code, types in ITEM_EVENT_TYPES.items() for item_type in types
)
N_ITEM_KEYS = len(ITEM_EVENT_KEYS)
N_ITEM_TYPES = it.N_TYPES
# ITEM_KEY[code][type_id] = index into the `items` aggregate, or N_ITEM_KEYS (dropped)
ITEM_KEY = {
    code: np.array(
        [
            ITEM_EVENT_KEYS.index((code, t)) if (code, t) in ITEM_EVENT_KEYS else N_ITEM_KEYS
            for t in range(N_ITEM_TYPES)
        ],
        np.int32,
    )
    for code in ITEM_EVENT_TYPES
}
N_SKILLS = 8
GOLD_KEYS = ("LOOT_GOLD", "EARN_GOLD", "BUY_ITEM")
N_GOLD_KEYS = len(GOLD_KEYS)


def item_key(name: str, item_type: jax.Array) -> jax.Array:
    """int32: the `items` aggregate key of (code `name`, item type), N_ITEM_KEYS if that code
    never carries the type. By arithmetic where the code's types are contiguous ids (a gather
    from the table costs more than the scatter it feeds on XLA CPU), else by the table."""
    types = ITEM_EVENT_TYPES[name]
    first = ITEM_EVENT_KEYS.index((name, types[0]))
    item_type = jnp.asarray(item_type, jnp.int32)
    if list(types) == list(range(types[0], types[0] + len(types))):
        inside = (item_type >= types[0]) & (item_type < types[0] + len(types))
        return jnp.where(inside, first + item_type - types[0], N_ITEM_KEYS)
    return jnp.asarray(ITEM_KEY[name])[jnp.clip(item_type, 0, N_ITEM_TYPES - 1)]


# Counters are stored densely: column EVENT_COLUMN[code] of the event log holds that code.
EVENT_COLUMN = {code: i for i, code in enumerate(EVENT_CODES.values())}
N_EVENT_CODES = len(EVENT_CODES)


@struct.dataclass
class EventLog:
    """What happened, per entity (SPEC 14.6); the layout is in the module docstring."""

    tick: jax.Array
    episode: jax.Array
    go_farthest: jax.Array
    items: jax.Array
    level_up: jax.Array
    hits: jax.Array
    kills: jax.Array
    gold: jax.Array

    def start_tick(self) -> EventLog:
        """The log at the start of a step: this step's counts cleared, the episode's kept."""
        return self.replace(
            tick=jnp.zeros_like(self.tick), go_farthest=jnp.zeros_like(self.go_farthest)
        )

    def end_tick(self) -> EventLog:
        """The log at the end of a step: this step's counts added to the episode's. The systems
        record into `tick` only, so each event costs one scatter, and `episode` is written once
        per step (read `episode` after a step, not inside one)."""
        return self.replace(episode=self.episode + self.tick.astype(self.episode.dtype))

    def record(self, name: str, counts: jax.Array) -> EventLog:
        """Adds `counts` (int or bool [k], k <= E) to event `name` (e.g. "EAT_FOOD") of the first
        k entities in this step's and the episode's log; players are the first rows, so a
        players-only system passes its [player_n] array."""
        column = EVENT_COLUMN[EVENT_CODES[name]]
        rows = counts.shape[-1]
        return self.replace(
            tick=self.tick.at[..., :rows, column].add(counts.astype(self.tick.dtype))
        )

    def record_item(self, name: str, happened, item_type, level, number=1) -> EventLog:
        """An item event `name` (a key of ITEM_EVENT_TYPES) of each player where `happened`
        [player_n], with its fields `item_type` and `level` (int or int [player_n]) and
        `number` (the item's quantity; 1 for a single item)."""
        happened = jnp.asarray(happened)
        n = happened.shape[-1]
        levels = self.items.shape[-1]
        item_type = jnp.broadcast_to(jnp.asarray(item_type, jnp.int32), (n,))
        level = jnp.broadcast_to(jnp.asarray(level, jnp.int32), (n,))
        key = jnp.where(happened, item_key(name, item_type), N_ITEM_KEYS)
        number = jnp.broadcast_to(jnp.asarray(number, jnp.int32), (n,))
        items = self.items.at[jnp.arange(n), key, jnp.clip(level, 1, levels) - 1].add(
            number, mode="drop"
        )
        return self.replace(items=items).record(name, happened)

    def record_items(
        self, name: str, player, item_type, level, number, happened, counts=None
    ) -> EventLog:
        """Item events `name` of several items [M] at once, each of player `player` (int [] or
        [M]): the `number` sums by (type, level) and the counts of events where `happened`.
        `counts` = (players [K], events [K]) gives the counts pre-summed (a smaller scatter)."""
        levels = self.items.shape[-1]
        key = jnp.where(happened, item_key(name, item_type), N_ITEM_KEYS)
        items = self.items.at[player, key, jnp.clip(level, 1, levels) - 1].add(
            jnp.where(happened, number, 0).astype(jnp.int32), mode="drop"
        )
        column = EVENT_COLUMN[EVENT_CODES[name]]
        if counts is None:
            who = jnp.where(happened, player, self.tick.shape[-2])
            count = happened.astype(jnp.int32)
        else:
            who, count = counts
        return self.replace(
            items=items,
            tick=self.tick.at[who, column].add(count.astype(self.tick.dtype), mode="drop"),
        )

    def record_level_up(self, skill: int, leveled: jax.Array, level: jax.Array) -> EventLog:
        """LEVEL_UP (type = skill id 1..8, level = the new level) where `leveled` [player_n]."""
        n = leveled.shape[-1]
        level_up = self.level_up.at[:n, skill - 1].max(jnp.where(leveled, level, 0))
        return self.replace(level_up=level_up).record("LEVEL_UP", leveled)

    def record_gold(self, name: str, happened: jax.Array, amount: jax.Array) -> EventLog:
        """A gold event `name` (GOLD_KEYS) of the first k entities where `happened` [k],
        carrying `amount` [k] gold."""
        k = happened.shape[-1]
        key = GOLD_KEYS.index(name)
        gold = self.gold.at[:k, key].add(jnp.where(happened, amount, 0).astype(jnp.int32))
        return self.replace(gold=gold).record(name, happened)

    def count(self, name: str, episode: bool = True) -> jax.Array:
        """int32 [E]: how often event `name` (e.g. "EAT_FOOD") was logged per entity."""
        log = self.episode if episode else self.tick
        return log[..., EVENT_COLUMN[EVENT_CODES[name]]]

    def item_number(self, name: str, item_type: int, min_level: int = 1) -> jax.Array:
        """int32 [player_n]: the summed `number` of event `name` with that item type and level
        >= `min_level` over the episode (e.g. harvested Potions of level >= 2)."""
        key = int(ITEM_KEY[name][item_type])
        if key == N_ITEM_KEYS:
            raise ValueError(
                f"item_type {item_type} is never logged by {name}; allowed: "
                f"{ITEM_EVENT_TYPES[name]}"
            )
        return self.items[..., key, max(min_level, 1) - 1 :].sum(axis=-1)


def empty_events(
    n_entities: int, n_players: int = 0, levels: int = 10, kill_levels: int = 16
) -> EventLog:
    return EventLog(
        tick=jnp.zeros((n_entities, N_EVENT_CODES), jnp.int16),
        episode=jnp.zeros((n_entities, N_EVENT_CODES), jnp.int32),
        go_farthest=jnp.zeros((n_entities,), jnp.int32),
        items=jnp.zeros((n_players, N_ITEM_KEYS, levels), jnp.int32),
        level_up=jnp.zeros((n_players, N_SKILLS), jnp.int32),
        hits=jnp.zeros((n_players, 3), jnp.int32),
        kills=jnp.zeros((n_entities, 2, kill_levels), jnp.int32),
        gold=jnp.zeros((n_entities, N_GOLD_KEYS), jnp.int32),
    )
