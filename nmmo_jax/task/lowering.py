"""Predicates lowered to one generic leaf kind, so that a step's cost does not grow with the
number of different predicates a curriculum holds (docs/PERFORMANCE.md, tasks).

Most built-ins are the same computation with other parameters: a sum over the subject's members
of a few per-player counters (an event count, hits of a style, gold earned, a skill's level or
experience, items harvested of a type at a minimum level, kills of NPCs above a level, ...),
compared to a threshold. Such a predicate registers a `lower(args) -> Count` (`@predicate(...,
lower=...)`) that names those counters for its arguments: which source, which column, with
which sign, over which members, and the threshold. The engine turns every leaf whose predicate
is lowered into one `Count` (the fields of the leaf's own predicate picked per leaf) and
evaluates them all with one gather per source, instead of evaluating each predicate on every
leaf. `count_value` of a leaf equals the predicate's own `fn` exactly (tests/task/
test_lowering.py); a predicate registered without `lower` (a user's, or a built-in replaced by
one) is evaluated by its `fn`.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import ops
from nmmo_jax.events import GOLD_KEYS
from nmmo_jax.state import SKILLS

# the alive members' entity columns the "entity" source holds, in order
ENTITY_SOURCE = (
    tuple(f"{s}_level" for s in SKILLS)
    + tuple(f"{s}_exp" for s in SKILLS)
    + (
        "gold",
        "alive",
    )
)
ENTITY_INDEX = {name: i for i, name in enumerate(ENTITY_SOURCE)}
GOLD_INDEX = {name: i for i, name in enumerate(GOLD_KEYS)}

# source -> whose members count: "valid" (every member, the event log) or "alive"
SOURCES = ("episode", "hits", "gold", "entity", "items", "held", "kills")


@dataclasses.dataclass
class Count:
    """A lowered leaf: `where(fixed, fixed_value, ratio(total + tick * tick_now, denom))`, where
    total sums, over the subject's members, `coef * value` of each term of `terms`:

    terms   {source: [(index, coef), ...]}: "episode" (event log column), "hits" (style 0..2),
            "gold" (GOLD_KEYS), the log's, over every member; "entity" (ENTITY_SOURCE), over
            the alive members; "items" (an item-event key), "kills" (1 = NPC victims), the
            log's by level, over every member, and "held" (an item type: the quantity owned;
            the type + N_TYPES: the items equipped), over the alive members, each summed over
            levels >= `level` (one term at most). Owned and equipped counts are one source
            because no leaf reads both: each member's inventory is read once per leaf
    level   float32: the minimum level of the by-level sources
    tick    int 0/1: add the tick
    denom   float32: the threshold (the ratio is 0 where it is 0)
    fixed   bool: the value is `fixed_value` instead
    """

    terms: dict
    level: jax.Array | float = 0.0
    tick: int = 0
    denom: jax.Array | float = 1.0
    fixed: jax.Array | bool = False
    fixed_value: jax.Array | float = 0.0


def ratio(value, total):
    """value / total as float32, 0 where total is 0 (predicates._ratio)."""
    total = jnp.asarray(total, jnp.float32)
    return jnp.where(total != 0, value / jnp.where(total != 0, total, 1.0), 0.0)


def merge(pred: jax.Array, counts: dict) -> Count:
    """One Count per leaf from `counts` {predicate id: Count of the leaf's arguments}: the
    fields of the leaf's predicate `pred` (zero terms and fields where it is none of them)."""
    pids = list(counts)
    chosen = [pred == pid for pid in pids]

    def pick(values, default):
        values = [jnp.asarray(v) for v in values]
        if len(values) == 1:
            return jnp.where(chosen[0], values[0], default)
        return jnp.select(chosen, values, default)

    terms = {}
    for source in SOURCES:
        width = max((len(c.terms.get(source, ())) for c in counts.values()), default=0)
        if not width:
            continue
        terms[source] = []
        for j in range(width):
            entries = [
                c.terms[source][j] if j < len(c.terms.get(source, ())) else (0, 0)
                for c in counts.values()
            ]
            index = pick([jnp.asarray(e[0], jnp.int32) for e in entries], 0)
            coef = pick([jnp.asarray(e[1], jnp.int32) for e in entries], 0)
            terms[source].append((index, coef))
    fields = {}
    for name, default, dtype in (
        ("level", 0.0, jnp.float32),
        ("tick", 0, jnp.int32),
        ("denom", 1.0, jnp.float32),
        ("fixed", False, bool),
        ("fixed_value", 0.0, jnp.float32),
    ):
        values = [jnp.asarray(getattr(c, name), dtype) for c in counts.values()]
        fields[name] = pick(values, jnp.asarray(default, dtype))
    return Count(terms, **fields)


def _from_level(per_level, level, first):
    """Sum of `per_level` [..., L] (index i = level i + first) over levels >= `level`."""
    levels = jnp.arange(first, per_level.shape[-1] + first)
    return jnp.where(levels >= level, per_level, 0).sum(-1)


def count_value(q, c: Count, tables: dict | None = None) -> jax.Array:
    """float32: the value of a lowered leaf (`merge`d, or one predicate's Count) for the
    subject of Query `q`; `tables`: `source_tables` of the step, made here if not given."""
    f, slot = q.f, q.slot
    state = f.state
    if tables is None:
        tables = source_tables(f, tuple(c.terms))
    total = jnp.int32(0)
    for source, pairs in c.terms.items():
        index = jnp.stack([jnp.asarray(i, jnp.int32) for i, _ in pairs])
        coef = jnp.stack([jnp.asarray(k, jnp.int32) for _, k in pairs])
        if source in ("episode", "hits", "gold"):
            table = getattr(state.events, source)
            values = table[slot[:, None], index[None, :]].astype(jnp.int32)  # [G, J]
            member = jnp.where(q.valid, (values * coef).sum(-1), 0)
        elif source == "entity":
            values = tables["entity"][slot[:, None], index[None, :]]
            member = jnp.where(q.alive, (values * coef).sum(-1), 0)
        elif source == "items":
            per_level = f.items_at(slot, index[0])
            member = jnp.where(q.valid, coef[0] * _from_level(per_level, c.level, 1), 0)
        elif source == "kills":
            per_level = f.kills_at(slot, index[0] == 1)
            member = jnp.where(q.valid, coef[0] * _from_level(per_level, c.level, 0), 0)
        else:  # held: an item type owned, or + N_TYPES equipped
            kind = index[0]
            slots = tables["held"][slot]  # [G, S]
            bits = _level_bits(f)
            match = (slots & 31) == kind % it.N_TYPES
            match &= ((slots >> 5) & ((1 << bits) - 1)) >= c.level
            equipped = (slots >> (5 + bits)) & 1
            value = jnp.where(kind >= it.N_TYPES, equipped, slots >> (6 + bits))
            count = jnp.where(match, value, 0).sum(-1)
            member = jnp.where(q.alive, coef[0] * count, 0)
        total = total + member.sum()
    value = total + jnp.asarray(c.tick, jnp.int32) * f.tick
    return jnp.where(c.fixed, jnp.asarray(c.fixed_value, jnp.float32), ratio(value, c.denom))


def source_tables(f, sources) -> dict:
    """The per-player tables of the "entity" and "held" sources among `sources`, made once per
    step and materialized together (one `ops.materialize`): XLA:CPU otherwise fuses their
    making into every leaf's gather (a select among the columns, the unpacking of the slots,
    recomputed per read)."""
    made = {"entity": entity_source, "held": held_source}
    names = [name for name in made if name in sources]
    if not names:
        return {}
    values = ops.materialize(*[made[name](f) for name in names], token=f.tick)
    return dict(zip(names, values, strict=True))


def entity_source(f) -> jax.Array:
    """int32 [N, len(ENTITY_SOURCE)]: the entity columns the "entity" source reads, every
    player (masked by the members' `alive` where read)."""
    ent = f.state.entities
    return jnp.stack([getattr(ent, name)[: f.n].astype(jnp.int32) for name in ENTITY_SOURCE], 1)


def held_source(f) -> jax.Array:
    """int32 [N, S]: every player's inventory slots packed for the "held" source, 0 for empty
    slots (dead players are masked by the members' `alive` where read): type id (bits 0-4),
    level clipped to the levels of the item tables (as `Features.by_type_at` counts it; the
    next `_level_bits` bits), equipped (1 bit), then the quantity (an int16). A lowered leaf
    reads one word per slot of its members' inventory (unpacked, ~5 gathered fields per
    slot)."""
    slots = f.state.inventory.slots[: f.n].astype(jnp.int32)
    levels = f.state.events.items.shape[-1]
    level = jnp.clip(it.column(slots, "level"), 1, levels)
    bits = _level_bits(f)
    word = (
        it.column(slots, "type_id")
        | (level << 5)
        | ((it.column(slots, "equipped") > 0).astype(jnp.int32) << (5 + bits))
        | (it.column(slots, "quantity") << (6 + bits))
    )
    return jnp.where(it.occupied(slots), word, 0)


def _level_bits(f) -> int:
    """The bits of a level in `held_source` (static; 4 for the default 10 levels)."""
    bits = int(f.state.events.items.shape[-1]).bit_length()
    assert it.N_TYPES <= 32 and 6 + bits + 15 <= 31, "held_source's packing needs a wider word"
    return bits
