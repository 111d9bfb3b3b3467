"""Predicates: functions of a subject's `Query` and their arguments, valued in [0, 1] (SPEC 14.3).

Every built-in predicate of the reference (`nmmo.task.base_predicates`) is registered here
under its reference name, with its parameters in the reference's order. A user predicate is
registered the same way and composes with the built-ins:

    @nj.task.predicate(params=("dist",))
    def StayNearSpawn(q, a):
        moved = jnp.maximum(abs(q.column("row") - q.feature("spawn_row")), ...)
        return jnp.where(q.alive.any(), ..., 0.0)

A predicate sees one subject; the engine vmaps it over all tasks and clamps its value to
[0, 1]. Arguments are float32 scalars (`a.level`, `a.int("level")`); names given in Python
(an item "Ration", a skill "Fishing", a material "Water", an event "EAT_FOOD") are turned into
ids when a task is encoded (`spec.py`). The group argument (`target`, `target_protect`) is a
bool mask over players, `q.target`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import material as mat
from nmmo_jax.events import EVENT_CODES, N_ITEM_KEYS, item_key
from nmmo_jax.state import SKILLS
from nmmo_jax.task.features import event_column
from nmmo_jax.task.lowering import ENTITY_INDEX, GOLD_INDEX, Count

# --- names the encoder turns into numbers
SKILL_ID = {name: i + 1 for i, name in enumerate(SKILLS)}  # melee 1 .. alchemy 8 (SPEC 4.1)
ITEM_ID = {name.lower(): type_id for type_id, name in it.NAMES.items()}
MATERIAL_ID = {name.lower(): i for i, name in enumerate(mat.NAMES)}
STATUS_ID = {"dead": 0, "alive": 1}
AGENT_TYPE_ID = {"player": 0, "npc": 1}
QUADRANT_ID = {"first": 1, "second": 2, "third": 3, "fourth": 4}
COMBAT_STYLE_ID = {"melee": 1, "range": 2, "mage": 3}
# the weapon and ammunition FullyArmed requires for each style (SPEC 14.3)
STYLE_WEAPON = {1: it.SPEAR, 2: it.BOW, 3: it.WAND}
STYLE_AMMO = {1: it.WHETSTONE, 2: it.ARROW, 3: it.RUNES}


def _by_name(table: dict, what: str):
    def convert(value):
        if isinstance(value, str):
            key = value.lower()
            if key not in table:
                raise ValueError(f"unknown {what} {value!r} (one of {sorted(table)})")
            return table[key]
        name = getattr(value, "__name__", None)  # a reference class (Skill, Item, Material)
        if name is not None:
            return convert(name)
        return value

    return convert


ARGUMENT_KINDS = {
    "skill": _by_name(SKILL_ID, "skill"),
    "item": _by_name(ITEM_ID, "item"),
    "tile_type": _by_name(MATERIAL_ID, "material"),
    "combat_style": _by_name(COMBAT_STYLE_ID, "combat style"),
    "status": _by_name(STATUS_ID, "status"),
    "agent_type": _by_name(AGENT_TYPE_ID, "agent type"),
    "quadrant": _by_name(QUADRANT_ID, "quadrant"),
    "event": _by_name({k.lower(): v for k, v in EVENT_CODES.items()}, "event"),
}


@dataclasses.dataclass(frozen=True)
class PredicateDef:
    """A registered predicate: `fn(query, args) -> float`, its numeric parameters (in the
    reference's order, with defaults), and the name of its group parameter, if any."""

    name: str
    fn: Callable
    params: tuple[str, ...]
    defaults: tuple = ()
    target: str | None = None
    extra: tuple[str, ...] = ()  # parameters kept in the name only (ProtectLeader's target_destroy)
    views: bool = False  # reads members' last observations (`Query.saw`, the task memory)
    # `lower(args) -> lowering.Count`: the same value as `fn` as a generic count (evaluated
    # for all such leaves at once, lowering.py); None: the engine runs `fn`
    lower: Callable | None = None

    def convert(self, name: str, value) -> float:
        """A Python argument value as the float the encoded row stores."""
        if value is None:
            return -1.0
        convert = ARGUMENT_KINDS.get(name)
        if convert is not None:
            value = convert(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{self.name}: argument {name!r} must be a number (got {value!r})"
            ) from None


REGISTRY: dict[str, PredicateDef] = {}


def predicate(name=None, params=(), defaults=(), target=None, extra=(), views=False, lower=None):
    """Registers `fn(query, args)` as a predicate named `name` (default: the function's name):
    `params` its numeric parameters in order, `defaults` the values of the last ones, `target`
    the name of its group parameter, `views` whether it reads what members saw (the engine
    keeps the views only when a task can need them), `lower` an optional `lowering.Count` of the
    same value (lowering.py; it must equal `fn` exactly). Returns the function; registering a
    name again replaces it."""

    def register(fn):
        key = name or fn.__name__
        REGISTRY[key] = PredicateDef(
            key, fn, tuple(params), tuple(defaults), target, tuple(extra), views, lower
        )
        return fn

    return register


def predicate_id(name: str) -> int:
    """The id an encoded row stores for predicate `name` (its registration order)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown predicate {name!r} (registered: {', '.join(REGISTRY)})")
    return list(REGISTRY).index(name)


def definition(pred_id: int) -> PredicateDef:
    return list(REGISTRY.values())[pred_id]


def _ratio(value, total):
    """value / total as float32, 0 where total is 0 (the reference would divide by zero)."""
    total = jnp.asarray(total, jnp.float32)
    return jnp.where(total != 0, value / jnp.where(total != 0, total, 1.0), 0.0)


def _linf(q, row, col):
    """int32 [G]: each member's Chebyshev distance to (row, col)."""
    return jnp.maximum(jnp.abs(q.column("row") - row), jnp.abs(q.column("col") - col))


def _closest(q, row, col):
    """The smallest distance of an alive member to (row, col) (a large number if none)."""
    return jnp.where(q.alive, _linf(q, row, col), 1 << 20).min()


# --- the built-ins (nmmo.task.base_predicates), in the reference's order
@predicate(lower=lambda a, cfg: Count({}, fixed=True, fixed_value=1.0))
def Success(q, a):
    return jnp.float32(1.0)


def _horizon_ticks(a, cfg):
    return jnp.where(a.num_tick < 0, cfg.horizon, a.num_tick)


@predicate(
    params=("num_tick",),
    defaults=(None,),
    lower=lambda a, cfg: Count({}, tick=1, denom=_horizon_ticks(a, cfg)),
)
def TickGE(q, a):
    return _ratio(q.tick.astype(jnp.float32), _horizon_ticks(a, q.cfg))


@predicate(params=("tile_type",), views=True)
def CanSeeTile(q, a):
    return q.saw_material(a.int("tile_type")).any().astype(jnp.float32)


def _group_alive(q):
    """(alive, size) of the group StayAlive and AllDead read: the subject, or the target when
    one is given (SPEC 14.5: `make_task_from_spec` makes the target of AllDead and StayAlive
    their subject, so `AllDead(target="left_team")` reads the whole left team, beyond
    task_group_size)."""
    size = q.target_size
    by_target = size > 0
    alive = jnp.where(by_target, q.target_alive, (q.alive & (q.column("health") > 0)).sum())
    return alive, jnp.where(by_target, size, q.size)


@predicate(target="target")
def StayAlive(q, a):
    alive, size = _group_alive(q)
    return (alive == size).astype(jnp.float32)


@predicate(target="target")
def AllDead(q, a):
    alive, size = _group_alive(q)
    return 1.0 - _ratio(alive, size)


@predicate(params=("status",), target="target")
def CheckAgentStatus(q, a):
    share_alive = _ratio(q.target_alive, q.target_size)
    status = a.int("status")
    return jnp.where(status == 1, share_alive, jnp.where(status == 0, 1.0 - share_alive, 0.0))


@predicate(params=("row", "col"))
def OccupyTile(q, a):
    here = q.alive & (q.column("row") == a.int("row")) & (q.column("col") == a.int("col"))
    return here.any().astype(jnp.float32)


@predicate(target="target", views=True)
def CanSeeAgent(q, a):
    return q.saw(q.target).any().astype(jnp.float32)


@predicate(target="target", views=True)
def CanSeeGroup(q, a):
    return q.saw(q.target).any().astype(jnp.float32)


@predicate(params=("dist",))
def DistanceTraveled(q, a):
    moved = jnp.maximum(
        jnp.abs(q.column("row") - q.feature("spawn_row")),
        jnp.abs(q.column("col") - q.feature("spawn_col")),
    )
    total = jnp.where(q.alive, moved, 0).sum()
    return jnp.where((q.alive & (q.column("health") > 0)).any(), _ratio(total, a.dist), 0.0)


def _skill_column(q, skill, suffix):
    """int32 [G]: the `<skill>_level` or `_exp` column of the members for a skill id 1..8."""
    values = jnp.stack([q.column(f"{name}_{suffix}") for name in SKILLS])  # [8, G]
    known = (skill >= 1) & (skill <= len(SKILLS))
    return jnp.where(known, values[jnp.clip(skill - 1, 0, len(SKILLS) - 1)], 0)


def _skill(a):
    """(index of the skill in a block of SKILLS columns, 1 if it is a skill id 1..8 else 0)."""
    skill = a.int("skill")
    known = (skill >= 1) & (skill <= len(SKILLS))
    return jnp.clip(skill - 1, 0, len(SKILLS) - 1), known.astype(jnp.int32)


def _lower_attain_skill(a, cfg):
    index, known = _skill(a)  # the alive members' (level - 1)
    return Count(
        {"entity": [(ENTITY_INDEX["melee_level"] + index, known), (ENTITY_INDEX["alive"], -1)]},
        denom=a.num_agent * (a.level - 1),
        fixed=a.level <= 1,
        fixed_value=1.0,
    )


def _lower_gain_experience(a, cfg):
    index, known = _skill(a)
    return Count(
        {"entity": [(ENTITY_INDEX["melee_exp"] + index, known)]}, denom=a.experience * a.num_agent
    )


@predicate(params=("skill", "level", "num_agent"), lower=_lower_attain_skill)
def AttainSkill(q, a):
    gained = jnp.where(q.alive, _skill_column(q, a.int("skill"), "level") - 1, 0).sum()
    return jnp.where(a.level <= 1, 1.0, _ratio(gained, a.num_agent * (a.level - 1)))


@predicate(params=("skill", "experience", "num_agent"), lower=_lower_gain_experience)
def GainExperience(q, a):
    exp = _skill_column(q, a.int("skill"), "exp").sum()
    return _ratio(exp, a.experience * a.num_agent)


def _lower_count_event(a, cfg):
    column, known = event_column(a.int("event"))
    return Count({"episode": [(column, known.astype(jnp.int32))]}, denom=a.N)


@predicate(params=("event", "N"), lower=_lower_count_event)
def CountEvent(q, a):
    return _ratio(q.event_count(a.int("event")).sum(), a.N)


def _lower_score_hit(a, cfg):
    style = a.int("combat_style")
    known = ((style >= 1) & (style <= 3)).astype(jnp.int32)
    return Count({"hits": [(jnp.clip(style - 1, 0, 2), known)]}, denom=a.N)


@predicate(params=("combat_style", "N"), lower=_lower_score_hit)
def ScoreHit(q, a):
    style = a.int("combat_style")
    hits = jnp.stack([q.feature(f"hits_{s}") for s in ("melee", "range", "mage")])  # [3, G]
    known = (style >= 1) & (style <= 3)
    count = jnp.where(known, hits[jnp.clip(style - 1, 0, 2)].sum(), 0)
    return _ratio(count, a.N)


def _lower_defeat_entity(a, cfg):
    npc = (a.int("agent_type") == 1).astype(jnp.int32)
    return Count(
        {"kills": [(npc, 1)]},
        level=a.level,
        denom=a.num_agent,
        fixed=~(a.num_agent > 0),
        fixed_value=1.0,
    )


@predicate(params=("agent_type", "level", "num_agent"), lower=_lower_defeat_entity)
def DefeatEntity(q, a):
    kills = q.kills(a.int("agent_type") == 1, a.level).sum()
    return jnp.where(a.num_agent > 0, _ratio(kills, a.num_agent), 1.0)


@predicate(
    params=("amount",),
    lower=lambda a, cfg: Count({"entity": [(ENTITY_INDEX["gold"], 1)]}, denom=a.amount),
)
def HoardGold(q, a):
    return _ratio(q.column("gold").sum(), a.amount)


def _earned(q):
    return (q.feature("gold_EARN_GOLD") + q.feature("gold_LOOT_GOLD")).sum()


_EARNED = [(GOLD_INDEX["EARN_GOLD"], 1), (GOLD_INDEX["LOOT_GOLD"], 1)]
_SPENT = (GOLD_INDEX["BUY_ITEM"], 1)


@predicate(params=("amount",), lower=lambda a, cfg: Count({"gold": _EARNED}, denom=a.amount))
def EarnGold(q, a):
    return _ratio(_earned(q), a.amount)


@predicate(params=("amount",), lower=lambda a, cfg: Count({"gold": [_SPENT]}, denom=a.amount))
def SpendGold(q, a):
    return _ratio(q.feature("gold_BUY_ITEM").sum(), a.amount)


def _lower_make_profit(a, cfg):
    return Count({"gold": _EARNED + [(_SPENT[0], -1)]}, denom=a.amount)


@predicate(params=("amount",), lower=_lower_make_profit)
def MakeProfit(q, a):
    return _ratio(_earned(q) - q.feature("gold_BUY_ITEM").sum(), a.amount)


@predicate(params=("space",), views=True)
def InventorySpaceGE(q, a):
    # every member's observation: a dead member's last one shows its last inventory
    free = jnp.where(q.alive, q.feature("free_slots"), q.f.memory.free_slots[q.slot])
    return (~q.valid | (free >= a.space)).all().astype(jnp.float32)


def _item_type(a):
    """(the item type argument, 1 if it indexes the by-type tables else 0)."""
    item = a.int("item")
    return item, ((item >= 0) & (item < it.N_TYPES)).astype(jnp.int32)


def _lower_own_item(a, cfg):
    return Count({"held": [_item_type(a)]}, level=a.level, denom=a.quantity)


def _lower_equip_item(a, cfg):
    item, known = _item_type(a)
    return Count(
        {"held": [(item + it.N_TYPES, known)]},  # the held source's equipped count
        level=a.level,
        denom=a.num_agent,
        fixed=~(a.num_agent > 0),
        fixed_value=1.0,
    )


@predicate(params=("item", "level", "quantity"), lower=_lower_own_item)
def OwnItem(q, a):
    return _ratio(q.owned(a.int("item"), a.level).sum(), a.quantity)


@predicate(params=("item", "level", "num_agent"), lower=_lower_equip_item)
def EquipItem(q, a):
    count = q.equipped(a.int("item"), a.level).sum()
    return jnp.where(a.num_agent > 0, _ratio(count, a.num_agent), 1.0)


@predicate(params=("combat_style", "level", "num_agent"))
def FullyArmed(q, a):
    style = a.int("combat_style")
    weapon = jnp.select([style == s for s in STYLE_WEAPON], list(STYLE_WEAPON.values()), 0)
    ammo = jnp.select([style == s for s in STYLE_AMMO], list(STYLE_AMMO.values()), 0)
    pieces = jnp.stack([jnp.int32(p) for p in (it.HAT, it.TOP, it.BOTTOM)] + [weapon, ammo])
    armed = (q.equipped(pieces, a.level) > 0).all(axis=-1)  # every piece, each member
    count = (armed & (weapon > 0)).sum()
    return jnp.where(a.num_agent > 0, _ratio(count, a.num_agent), 1.0)


def _item_event_predicate(event: str, name: str):
    def lower(a, cfg):
        key = item_key(event, a.int("item"))
        known = (key < N_ITEM_KEYS).astype(jnp.int32)
        return Count(
            {"items": [(jnp.minimum(key, N_ITEM_KEYS - 1), known)]},
            level=a.level,
            denom=a.quantity,
        )

    @predicate(name=name, params=("item", "level", "quantity"), lower=lower)
    def value(q, a):
        return _ratio(q.item_events(event, a.int("item"), a.level).sum(), a.quantity)

    return value


ConsumeItem = _item_event_predicate("CONSUME_ITEM", "ConsumeItem")
HarvestItem = _item_event_predicate("HARVEST_ITEM", "HarvestItem")
FireAmmo = _item_event_predicate("FIRE_AMMO", "FireAmmo")
ListItem = _item_event_predicate("LIST_ITEM", "ListItem")
BuyItem = _item_event_predicate("BUY_ITEM", "BuyItem")


@predicate()
def ProgressTowardCenter(q, a):
    centre = q.cfg.map_size // 2
    max_dist = centre - q.cfg.map_border
    # the reference raises with two or more alive members; we take the closest (DEVIATIONS)
    return jnp.where(q.alive.any(), 1.0 - _closest(q, centre, centre) / max_dist, 0.0)


@predicate(params=("dist",))
def AllMembersWithinRange(q, a):
    alive = q.alive
    count = jnp.maximum(alive.sum(), 1)
    big = 1 << 20
    row, col = q.column("row"), q.column("col")
    span_r = jnp.where(alive, row, -big).max() - jnp.where(alive, row, big).min()
    span_c = jnp.where(alive, col, -big).max() - jnp.where(alive, col, big).min()
    span = jnp.maximum(span_r, span_c)
    max_dist = q.cfg.map_center

    def spread(x):
        mean = jnp.where(alive, x, 0).sum() / count
        return jnp.sqrt(jnp.where(alive, (x - mean) ** 2, 0.0).sum() / count)

    def sd_score(x):
        limit = jnp.maximum(3 * spread(x), a.dist)
        return _ratio(a.dist, limit)  # 0 where 0/0 (the reference's NaN: DEVIATIONS)

    score = (_ratio(max_dist - span, max_dist - a.dist) + sd_score(row) + sd_score(col)) / 3.0
    value = jnp.where(span <= a.dist, 1.0, score)
    return jnp.where((a.dist < 0) | ~alive.any(), 0.0, value)


def seize_value(q, row, col, num_ticks, progress_bonus, seize_bonus):
    """SeizeTile's value (SPEC 14.3): only the centre tile is tracked (KingoftheHill's seize
    target); any other tile is never held, so its value stays below the progress bonus."""
    centre = q.cfg.map_size // 2
    holder, seized_at = q.f.seize[0], q.f.seize[1]
    tracked = q.cfg.seize_center & (row == centre) & (col == centre)
    held = tracked & (holder > 0) & (q.valid & (q.members == holder - 1)).any()
    duration = (q.tick - seized_at).astype(jnp.float32)
    hold_bonus = (1.0 - progress_bonus - seize_bonus) * _ratio(duration, num_ticks)
    approach = progress_bonus * (1.0 - _closest(q, row, col) / (q.cfg.map_center // 2))
    value = jnp.where(held, progress_bonus + seize_bonus + hold_bonus, approach)
    return jnp.where((q.alive & (q.column("health") > 0)).any(), value, 0.0)


@predicate(params=("row", "col", "num_ticks", "progress_bonus", "seize_bonus"), defaults=(0.4, 0.3))
def SeizeTile(q, a):
    return seize_value(q, a.int("row"), a.int("col"), a.num_ticks, a.progress_bonus, a.seize_bonus)


@predicate(params=("num_ticks", "progress_bonus"), defaults=(0.3,))
def SeizeCenter(q, a):
    centre = q.cfg.map_size // 2
    return seize_value(q, centre, centre, a.num_ticks, a.progress_bonus, 0.3)


@predicate(params=("num_ticks", "quadrant", "progress_bonus"), defaults=(0.3,))
def SeizeQuadCenter(q, a):
    centre = q.cfg.map_size // 2
    half = q.cfg.map_center // 4
    quadrant = a.int("quadrant")
    row = jnp.where((quadrant == 1) | (quadrant == 4), centre + half, centre - half)
    col = jnp.where((quadrant == 1) | (quadrant == 2), centre + half, centre - half)
    return seize_value(q, row, col, a.num_ticks, a.progress_bonus, 0.3)


@predicate(target="target_protect", extra=("target_destroy",))
def ProtectLeader(q, a):
    leader_alive = q.target_alive > 0
    return jnp.where(leader_alive, q.tick / q.cfg.horizon, 0.0)
