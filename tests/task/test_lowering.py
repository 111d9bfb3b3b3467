"""Lowered predicates (nmmo_jax/task/lowering.py) equal their own `fn`, bit for bit.

Every built-in with a `lower` is evaluated both ways on a hand-built state with random event
logs, entity columns and inventories (six players, two of them dead, members with empty
places), over arguments that include the edge cases (unknown skills, events, item types and
styles, levels <= 1, thresholds of 0 and negative counts). Then whole tables: the engine's
lowered leaves against every predicate by its `fn` ("direct"), and a user predicate with a
lowering of its own.
"""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
from helpers import PLAYERS, player, specs, table, world

from nmmo_jax import events as ev
from nmmo_jax import items as it
from nmmo_jax.task import REGISTRY, Group, P, engine, predicate
from nmmo_jax.task import spec as enc
from nmmo_jax.task.features import empty_memory, features
from nmmo_jax.task.lowering import GOLD_INDEX, Count, count_value, merge
from nmmo_jax.task.query import Args, Query
from nmmo_jax.task.spec import LEAF, N_ARGS

LOWERED = [name for name, d in REGISTRY.items() if d.lower is not None]


def _state(seed=0):
    """(cfg, state): players 1-6 with random skills, gold, event logs and inventories; 3 and 6
    dead."""
    rng = np.random.default_rng(seed)
    players = {pid: player(9 + pid, 9 + pid) for pid in range(1, PLAYERS + 1)}
    cfg, state = world(players, tick=37)
    ent = state.entities
    columns = {"gold": rng.integers(0, 40, PLAYERS)}
    for skill in ("melee", "range", "mage", "fishing", "herbalism", "prospecting", "carving"):
        columns[f"{skill}_level"] = rng.integers(1, 6, PLAYERS)
        columns[f"{skill}_exp"] = rng.integers(0, 300, PLAYERS)
    columns["alchemy_level"] = rng.integers(1, 6, PLAYERS)
    columns["alchemy_exp"] = rng.integers(0, 300, PLAYERS)
    alive = np.ones(PLAYERS, bool)
    alive[[2, 5]] = False
    updates = {
        name: getattr(ent, name).at[:PLAYERS].set(jnp.asarray(v, getattr(ent, name).dtype))
        for name, v in columns.items()
    }
    updates["alive"] = ent.alive.at[:PLAYERS].set(jnp.asarray(alive))
    updates["health"] = ent.health.at[:PLAYERS].set(jnp.where(jnp.asarray(alive), 50, 0))
    state = state.replace(entities=ent.replace(**updates))
    log = state.events

    def rand(x, high):
        values = rng.integers(0, high, (PLAYERS,) + x.shape[1:])
        return x.at[:PLAYERS].set(jnp.asarray(values, x.dtype))

    log = log.replace(
        episode=rand(log.episode, 9),
        hits=rand(log.hits, 7),
        gold=rand(log.gold, 30),
        items=rand(log.items, 4),
        kills=rand(log.kills, 3),
    )
    slots = state.inventory.slots
    shape = (PLAYERS,) + slots.shape[1:]
    raw = np.zeros(shape, np.int64)
    for name, high in (("type_id", it.N_TYPES), ("level", 12), ("quantity", 9), ("equipped", 2)):
        raw[..., it.COL[name]] = rng.integers(0, high, shape[:2])
    slots = slots.at[:PLAYERS].set(jnp.asarray(raw, slots.dtype))
    return cfg, state.replace(events=log, inventory=state.inventory.replace(slots=slots))


CFG, STATE = _state()
FEATURES = features(STATE, empty_memory(CFG, False), CFG)
MEMBERS = [[0], [2], [0, 1], [1, 2, 5], [0, 1, 2, 3, 4, 5], [5]]  # slots; 2 and 5 are dead


def _args(name):
    """Argument rows for predicate `name`: every combination of a few values per parameter."""
    values = {
        "num_tick": [-1, 0, 10, 40],
        "skill": [-1, 0, 1, 3, 8, 9],
        "level": [-2, 0, 1, 1.5, 2, 3, 11],
        "num_agent": [-1, 0, 1, 3, 40],
        "experience": [0, 50, 700],
        "event": [0, 1, 5, 17, 20, 21, 99],
        "N": [0, 1, 6, 30],
        "combat_style": [0, 1, 2, 3, 4],
        "agent_type": [0, 1, 2],
        "amount": [-5, 0, 10, 55],
        "item": [-1, 0, 1, it.HAT, it.ARROW, it.RATION, it.POTION, it.N_TYPES - 1, it.N_TYPES],
        "quantity": [0, 1, 7, 60],
    }
    params = REGISTRY[name].params
    rows = []
    for combo in itertools.product(*(values[p] for p in params)):
        row = np.zeros(N_ARGS, np.float32)
        row[: len(combo)] = combo
        rows.append(row)
    return np.stack(rows)


def _clean(value):
    return jnp.clip(jnp.nan_to_num(jnp.asarray(value, jnp.float32)), 0.0, 1.0)


def _both(name, members):
    """(fn values, lowered values) of `name` for the members over its argument rows."""
    d = REGISTRY[name]
    padded = np.full(CFG.task_group_size, -1)
    padded[: len(members)] = members
    q = Query(FEATURES, jnp.asarray(padded), jnp.zeros(CFG.player_n, bool), CFG)

    def direct(args):
        return _clean(d.fn(q, Args(d.params, args)))

    def lowered(args):
        return _clean(count_value(q, d.lower(Args(d.params, args), CFG)))

    rows = jnp.asarray(_args(name))
    return np.asarray(jax.vmap(direct)(rows)), np.asarray(jax.vmap(lowered)(rows))


def test_the_counting_builtins_are_lowered():
    assert set(LOWERED) == set(
        "Success TickGE AttainSkill GainExperience CountEvent ScoreHit DefeatEntity HoardGold "
        "EarnGold SpendGold MakeProfit OwnItem EquipItem ConsumeItem HarvestItem FireAmmo "
        "ListItem BuyItem".split()
    )


def test_every_lowered_builtin_equals_its_fn():
    for name in LOWERED:
        seen = []
        for members in MEMBERS:
            want, got = _both(name, members)
            np.testing.assert_array_equal(got, want, err_msg=f"{name} members {members}")
            seen.append(want)
        seen = np.concatenate(seen)
        # the state exercises each one: values of 0, of 1 and in between
        assert (seen == 1).any() and (name == "Success" or (seen == 0).any()), name
        assert name == "Success" or ((seen > 0) & (seen < 1)).any(), name


def test_merged_counts_pick_each_leafs_own_predicate():
    """One merged Count per leaf over every lowered predicate equals each leaf's own."""

    def query():  # one per trace (a Query caches what it computed)
        return Query(FEATURES, jnp.asarray([0, 1, 2, -1, -1, -1, -1, -1]), jnp.zeros(6, bool), CFG)

    ids = [list(REGISTRY).index(name) for name in LOWERED]
    cases = [(pid, row) for pid, name in zip(ids, LOWERED, strict=True) for row in _args(name)]
    preds = jnp.asarray([pid for pid, _ in cases])
    rows = jnp.asarray(np.stack([row for _, row in cases]))

    def merged(pred, args):
        counts = {}
        for pid in ids:
            d = list(REGISTRY.values())[pid]
            counts[pid] = d.lower(Args(d.params, args), CFG)
        return _clean(count_value(query(), merge(pred, counts)))

    def own(name):
        d = REGISTRY[name]
        return jax.vmap(lambda args: _clean(d.fn(query(), Args(d.params, args))))

    got = np.asarray(jax.jit(jax.vmap(merged))(preds, rows))
    want = np.concatenate([np.asarray(own(name)(jnp.asarray(_args(name)))) for name in LOWERED])
    np.testing.assert_array_equal(got, want)
    # a leaf of no lowered predicate: zero terms, ratio 0
    assert float(merged(jnp.asarray(len(REGISTRY) + 5), rows[0])) == 0.0


def table_rows(tasks):
    """The unbound TaskTable of `tasks` (Success for the other players), for `engine.plan`."""
    rows = specs(*tasks)
    rows += specs(*[P.Success()] * (CFG.player_n - len(rows)))
    return jax.tree.map(jnp.asarray, enc.encode(rows, CFG))


def _table_values(tasks, lower, used=None):
    tbl = table(CFG, tasks)
    used = used or engine.used_predicates(tbl)
    plan = engine.full_plan(used, CFG)
    memory = empty_memory(CFG, True)

    @jax.jit
    def values(state, tbl):
        return engine.leaf_values(features(state, memory, CFG), tbl, CFG, plan, lower=lower)

    return np.asarray(values(STATE, tbl))


def test_engine_lowered_leaves_equal_direct_ones():
    g = Group([1, 2, 3])
    tasks = [
        P.HarvestItem(g, "Ration", 1, 3) & P.StayAlive(g),
        P.CountEvent(Group([3, 6]), "EAT_FOOD", 4) | P.OccupyTile(row=10, col=10),
        0.5 * P.AttainSkill(g, "Fishing", 2, 2) + P.MakeProfit(g, 12) * 0.5,
        P.DefeatEntity(g, "npc", 1, 3) - P.OwnItem(Group([4, 5, 6]), "Arrow", 2, 5),
        ~P.EquipItem(g, "Hat", 1, 2) & P.TickGE(num_tick=50),
        P.ScoreHit(Group([2, 6]), "Mage", 4) & P.GainExperience(g, "Carving", 90, 1),
    ]
    used = tuple(sorted(set(range(list(REGISTRY).index("ProtectLeader") + 1))))
    direct = _table_values(tasks, lower=False, used=used)
    lowered = _table_values(tasks, lower=True, used=used)
    np.testing.assert_array_equal(lowered, direct)
    assert (lowered > 0).sum() >= 6  # leaves of value > 0


def test_grouped_leaves_over_several_rounds_equal_a_switch_per_leaf():
    """The unlowered predicates run on the leaves that name them only, `cap` places per round
    (engine.grouped_values): with 6 tasks of 8 nodes (48 leaf places) and the 16 unlowered
    built-ins, cap = 6, so OccupyTile's 7 leaves take two rounds. Each leaf's value must equal
    the independent evaluation of `leaf_values_switch` (its own predicate through a
    lax.switch), lowered or not."""
    g = Group([1, 2, 4])
    occupy = [P.OccupyTile(Group(k), row=9 + k, col=9 + k) for k in (1, 2, 3, 4)]
    tasks = [
        occupy[0] | occupy[1] | occupy[2] | occupy[3],
        P.OccupyTile(g, row=11, col=11) & P.StayAlive(g) & P.OccupyTile(g, row=10, col=10),
        P.DistanceTraveled(g, dist=0) | P.OccupyTile(Group(4), row=13, col=13),
        P.FullyArmed(g, "Melee", 1, 1) + P.HoardGold(g, 30),
        P.AllDead(Group([3, 6])) & P.InventorySpaceGE(g, space=2),
        P.ProgressTowardCenter(g) * P.CheckAgentStatus(target=Group([1, 3]), status="alive"),
    ]
    used = tuple(sorted(set(range(list(REGISTRY).index("ProtectLeader") + 1))))
    tbl = table(CFG, tasks)
    plan = engine.full_plan(used, CFG)
    memory = empty_memory(CFG, True)

    @jax.jit
    def values(state, tbl):
        f = features(state, memory, CFG)
        return (
            engine.leaf_values(f, tbl, CFG, plan),
            engine.leaf_values(f, tbl, CFG, plan, lower=False),
            engine.leaf_values_switch(f, tbl, CFG, plan),
        )

    lowered, direct, switch = (np.asarray(v) for v in values(STATE, tbl))
    switch = np.where(np.asarray(tbl.op) == LEAF, switch, 0.0)  # it evaluates every node
    np.testing.assert_array_equal(lowered, switch)
    np.testing.assert_array_equal(direct, switch)
    # players 1, 2 and 4 stand on (10, 10), (11, 11) and (13, 13): six OccupyTile leaves hold
    assert (switch[:3] == 1.0).sum() >= 6


def test_plan_places_follow_the_curriculum_weights():
    """A Plan gives each predicate the leaves it is expected to have among player_n tasks
    drawn by weight, plus two standard deviations (rounded up): with weights 3 and 1 and
    OccupyTile in both specs, StayAlive in the first only, OccupyTile expects N leaves and
    StayAlive 3N/4."""
    from nmmo_jax.task import TaskSpec

    rows = [
        TaskSpec(P.OccupyTile(row=3, col=3) & P.StayAlive(), sampling_weight=3.0),
        TaskSpec(P.OccupyTile(row=4, col=4), sampling_weight=1.0),
    ]
    plan = engine.plan(jax.tree.map(jnp.asarray, enc.encode(rows, CFG)), CFG)
    n = CFG.player_n
    occupy, stay = (list(REGISTRY).index(name) for name in ("OccupyTile", "StayAlive"))
    places = dict(plan.places)
    assert set(places) == set(plan.used) == {occupy, stay}
    assert places[occupy] == int(np.ceil(n + 2 * np.sqrt(n)))
    assert places[stay] == int(np.ceil(0.75 * n + 2 * np.sqrt(0.75 * n)))


def test_planned_places_over_many_rounds_equal_even_ones():
    """Places sized by the Plan (`places`): the table's own Plan, and one with far fewer
    places than leaves (OccupyTile's 6 leaves in 2 places take 3 rounds, every other
    predicate has 1 place, StayAlive's 3 leaves take 3 rounds); the values must equal those of
    the default places (twice an even share of all leaves)."""
    g = Group([1, 2, 4])
    tasks = [
        P.OccupyTile(Group(k), row=9 + k, col=9 + k) | P.StayAlive(Group(k)) for k in (1, 2, 3)
    ] + [
        P.OccupyTile(g, row=11, col=11) & P.OccupyTile(g, row=10, col=10),
        P.DistanceTraveled(g, dist=0) | P.OccupyTile(Group(4), row=13, col=13),
        P.AllDead(Group([3, 6])) & P.HoardGold(g, 30),
    ]
    tbl = table(CFG, tasks)
    own = engine.plan(table_rows(tasks), CFG)
    occupy = list(REGISTRY).index("OccupyTile")
    few = dataclasses.replace(
        own, places=tuple((pid, 2 if pid == occupy else 1) for pid in own.used)
    )
    memory = empty_memory(CFG, True)

    @jax.jit
    def values(state, tbl):
        f = features(state, memory, CFG)
        return [engine.leaf_values(f, tbl, CFG, dataclasses.replace(own, places=()))] + [
            engine.leaf_values(f, tbl, CFG, p) for p in (own, few)
        ]

    default, planned, few_places = (np.asarray(v) for v in values(STATE, tbl))
    np.testing.assert_array_equal(planned, default)
    np.testing.assert_array_equal(few_places, default)
    # players 1, 2 and 4 stand on (10, 10), (11, 11) and (13, 13)
    assert (default[:3] == 1.0).sum() >= 3


def test_leaves_prepared_at_assignment_equal_leaves_made_in_the_step():
    """`Env.set_tasks` prepares a bound table's leaves once for the Env's Plan (engine.prepare:
    their places, arguments, subjects, targets, Counts and the order of the unlowered ones);
    `evaluate` from them must equal `evaluate` making them from the table in the step, for
    the table's own Plan (trimmed to its nodes, leaves and members) and for the full one."""
    g = Group([1, 2, 4])
    tasks = [
        P.HarvestItem(g, "Ration", 1, 3) & P.StayAlive(g),
        P.OccupyTile(Group(1), row=10, col=10) | P.OccupyTile(Group(2), row=11, col=11),
        0.5 * P.AttainSkill(g, "Fishing", 2, 2) + P.MakeProfit(g, 12) * 0.5,
        P.HoardGold(Group([1, 2]), 30),
        P.InventorySpaceGE(g, space=2),
    ]
    rows = specs(*tasks) + specs(*[P.Success()] * (CFG.player_n - len(tasks)))
    encoded = jax.tree.map(jnp.asarray, enc.encode(rows, CFG))
    tbl = engine.bind(encoded, jnp.arange(CFG.player_n, dtype=jnp.int32), CFG)
    own = engine.plan(encoded, CFG)
    assert own.nodes < CFG.task_nodes and own.group < CFG.task_group_size
    active = jnp.ones(CFG.player_n, bool)
    for plan in (own, engine.full_plan(own.used, CFG)):

        @jax.jit
        def rewards(state, tbl, plan=plan):
            made = engine.new_state(tbl, CFG, True)
            prepared = engine.new_state(tbl, CFG, True, plan)
            assert made.prepared is None and prepared.prepared.plan == plan
            return [engine.evaluate(state, t, active, CFG, plan)[1] for t in (made, prepared)]

        made, prepared = (np.asarray(r) for r in rewards(STATE, tbl))
        np.testing.assert_array_equal(prepared, made)
        assert (made[: len(tasks)] > 0).sum() >= 4


@predicate(
    params=("amount",),
    lower=lambda a, cfg: Count({"gold": [(GOLD_INDEX["LOOT_GOLD"], 1)]}, denom=a.amount),
)
def LootGoldForLowering(q, a):
    """A user predicate with a lowering: gold looted by the members over `amount`."""
    return jnp.asarray(q.feature("gold_LOOT_GOLD").sum() / a.amount, jnp.float32)


def test_user_predicate_with_a_lowering():
    tasks = [P.LootGoldForLowering(Group([1, 3]), amount=a) for a in (5, 10, 40, 80)]
    tasks += [P.EarnGold(Group(2), 20), P.Success()]
    direct = _table_values(tasks, lower=False)
    lowered = _table_values(tasks, lower=True)
    np.testing.assert_array_equal(lowered, direct)
    looted = int(STATE.events.gold[0, ev.GOLD_KEYS.index("LOOT_GOLD")]) + int(
        STATE.events.gold[2, ev.GOLD_KEYS.index("LOOT_GOLD")]
    )
    np.testing.assert_allclose(lowered[:4, -1], np.minimum(looted / np.array([5, 10, 40, 80]), 1))
