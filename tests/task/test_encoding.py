"""Encoded evaluation == direct evaluation over random tasks (issue 15, item 11).

The direct evaluation walks a task's expression tree in Python, as the reference does: each
predicate called on its own subject's Query (its explicit group, or the assignee; target
roles resolved from the team list by hand, SPEC 14.5) and clamped to [0, 1], numbers taken as
they are, combinations applied with the reference's rules (AND min, OR max, NOT 1 - a, ADD,
SUB, MUL clamped). The encoded evaluation is the engine's: one fixed-size row per task, bound
inside jit, all leaves vmapped, node programs combined. Hypothesis draws the trees.
"""

import jax.numpy as jnp
import numpy as np
from helpers import PLAYERS, Evaluator, add_events, add_gold, add_item_event, player, world
from hypothesis import given, settings
from hypothesis import strategies as st

from nmmo_jax import items as it
from nmmo_jax.task import Group, P, TaskSpec
from nmmo_jax.task import predicates as preds
from nmmo_jax.task import spec as sp
from nmmo_jax.task.features import empty_memory, features, remember
from nmmo_jax.task.query import Args, Query

TEAM = [0, 0, 1, 1, 2, 2]  # three teams of two: leaders 1, 3, 5
CFG, STATE = world(
    {
        1: player(10, 10, gold=7, food=40),
        2: player(12, 13, gold=3),
        3: player(16, 16, gold=12, health=30),
        4: player(20, 9, alive=False, health=0),
        5: player(9, 22, gold=1),
        6: player(23, 23, gold=5, water=20),
    },
    tick=40,
    team=TEAM,
)
STATE = add_events(STATE, 1, EAT_FOOD=3, DRINK_WATER=1)
STATE = add_events(STATE, 4, EAT_FOOD=2)
STATE = add_item_event(STATE, 2, "HARVEST_ITEM", it.RATION, 2, 1)
STATE = add_item_event(STATE, 3, "HARVEST_ITEM", it.RATION, 1, 1)
STATE = add_gold(STATE, 3, "EARN_GOLD", 8)
STATE = add_gold(STATE, 6, "BUY_ITEM", 4)
EV = Evaluator(CFG)
MEMORY = remember(empty_memory(CFG, True), STATE, CFG)
FEATURES = features(STATE, MEMORY, CFG)

SUBJECTS = st.one_of(st.none(), st.lists(st.integers(1, PLAYERS), min_size=1, max_size=3))
LEAVES = [
    lambda s, d: P.TickGE(s, num_tick=d(st.sampled_from([None, 20, 40, 80]))),
    lambda s, d: P.StayAlive(s),
    lambda s, d: P.AllDead(s),
    lambda s, d: P.AllDead(target=d(st.sampled_from(["left_team", "all_foes"]))),
    lambda s, d: P.CheckAgentStatus(
        s, d(st.sampled_from(["left_team", "right_team_leader", "all_foe_leaders"])),
        d(st.sampled_from(["alive", "dead"])),
    ),
    lambda s, d: P.HoardGold(s, amount=d(st.integers(1, 30))),
    lambda s, d: P.EarnGold(s, amount=d(st.integers(1, 20))),
    lambda s, d: P.MakeProfit(s, amount=d(st.integers(1, 20))),
    lambda s, d: P.CountEvent(s, d(st.sampled_from(["EAT_FOOD", "DRINK_WATER"])),
                              d(st.integers(1, 6))),
    lambda s, d: P.HarvestItem(s, "Ration", d(st.integers(1, 3)), d(st.integers(1, 3))),
    lambda s, d: P.DistanceTraveled(s, d(st.integers(1, 10))),
    lambda s, d: P.CanSeeTile(s, d(st.sampled_from(["Water", "Tree", "Stone"]))),
    lambda s, d: P.CanSeeGroup(s, d(st.sampled_from(["left_team", "all_foes"]))),
    lambda s, d: P.AllMembersWithinRange(s, d(st.integers(0, 12))),
    lambda s, d: P.ProgressTowardCenter(s),
    lambda s, d: P.OccupyTile(s, 10, 10),
]  # fmt: skip


@st.composite
def expressions(draw, depth=2):
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        ids = draw(SUBJECTS)
        subject = None if ids is None else Group(ids)
        return draw(st.sampled_from(LEAVES))(subject, draw)
    op = draw(st.sampled_from(["and", "or", "not", "add", "sub", "mul", "num"]))
    left = draw(expressions(depth - 1))
    if op == "not":
        return ~left
    if op == "num":
        number = draw(st.sampled_from([0.25, 0.5, 2.0]))
        return draw(st.sampled_from([number * left, left + number, number - left]))
    right = draw(expressions(depth - 1))
    return {"and": left & right, "or": left | right, "add": left + right, "sub": left - right,
            "mul": left * right}[op]  # fmt: skip


def role_mask(role: str, agent: int) -> np.ndarray:
    """The target role of player `agent` (1-based) by hand, from TEAM (SPEC 14.5)."""
    team = TEAM[agent - 1]
    teams = sorted(set(TEAM))
    members = {t: [i + 1 for i, x in enumerate(TEAM) if x == t] for t in teams}
    left, right = teams[(team + 1) % len(teams)], teams[(team - 1) % len(teams)]
    ids = {
        "left_team": members[left],
        "right_team_leader": members[right][:1],
        "all_foes": [i for t in teams if t != team for i in members[t]],
        "all_foe_leaders": [members[t][0] for t in teams if t != team],
    }[role]
    mask = np.zeros(PLAYERS, bool)
    mask[np.asarray(ids) - 1] = True
    return mask


def direct(expr, agent: int) -> float:
    """The value of `expr` for its assignee `agent`, walking the tree."""
    if isinstance(expr, float):
        return expr
    if isinstance(expr, sp.Predicate):
        d = preds.REGISTRY[expr.name]
        ids = [agent] if expr.subject is None else list(expr.subject.agents)
        members = np.full(CFG.task_group_size, -1)
        members[: len(ids)] = np.asarray(ids) - 1
        if isinstance(expr.target, str):
            target = role_mask(expr.target, agent)
        else:
            target = np.zeros(PLAYERS, bool)
            if expr.target is not None:
                target[np.asarray(expr.target.agents) - 1] = True
        args = np.zeros(sp.N_ARGS, np.float32)
        for j, key in enumerate(d.params):
            args[j] = d.convert(key, expr.args[key])
        q = Query(FEATURES, jnp.asarray(members), jnp.asarray(target), CFG)
        value = float(d.fn(q, Args(d.params, jnp.asarray(args))))
        return min(max(np.nan_to_num(value), 0.0), 1.0)
    values = [direct(o, agent) for o in expr.operands]
    a, b = values[0], values[-1]
    result = {sp.AND: min(a, b), sp.OR: max(a, b), sp.NOT: 1.0 - a, sp.ADD: a + b,
              sp.SUB: a - b, sp.MUL: a * b}[expr.op]  # fmt: skip
    return min(max(result, 0.0), 1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(expressions(), min_size=PLAYERS, max_size=PLAYERS))
def test_encoded_equals_direct(exprs):
    nodes = [len(_nodes(e)) for e in exprs]
    exprs = [e if n <= CFG.task_nodes else P.Success() for e, n in zip(exprs, nodes, strict=True)]
    got = EV.values(STATE, *[TaskSpec(e) for e in exprs], memory=None)
    want = [direct(e, agent) for agent, e in enumerate(exprs, start=1)]
    np.testing.assert_allclose(got, np.float32(want), atol=2e-6)


def _nodes(expr):
    out = []
    sp._flatten(expr, out)
    return out
