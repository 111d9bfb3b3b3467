"""Combinators, task classes and rewards, binding, encoding and sampling (SPEC 13.4, 14.3-14.5).

Progress is driven by gold: `HoardGold(Group(k), amount)` is gold(k) / amount (SPEC 14.3), so a
test sets the value it needs by setting a player's gold. Expected values are worked by hand in
the comments. The world is helpers.world (6 players) with horizon 8, so the default task
TickGE(horizon) pays 1/8 per tick.

One compiled `engine.evaluate` (a few predicates traced) and one compiled `Env.step` serve the
module; the Env's curriculum names every predicate its tests use, and tests put other bound
tables into the state (tables are data: the program is the same).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import Evaluator, player, set_entity, table, world

import nmmo_jax
from nmmo_jax.task import Group, P, TaskSpec, encode, engine
from nmmo_jax.task import spec as enc
from nmmo_jax.task.predicates import predicate_id

HORIZON = 8
CFG, _ = world({}, horizon=HORIZON)
NAMES = ("Success", "TickGE", "StayAlive", "HoardGold", "CheckAgentStatus")
USED = tuple(predicate_id(name) for name in NAMES)
EV = Evaluator(CFG, used=USED)
G1, G2 = Group(1), Group(2)


def gold_world(*gold, team=None):
    """(cfg, state): players 1..len(gold) alive with that gold, side by side at row 10."""
    players = {pid: player(10, 9 + pid, gold=g) for pid, g in enumerate(gold, start=1)}
    return world(players, horizon=HORIZON, team=team)


def values(state, *exprs):
    return EV.values(state, *exprs)


# --- combinators (SPEC 14.3)


def test_combinators():
    _, state = gold_world(3, 6)
    p, q = P.HoardGold(G1, 10), P.HoardGold(G2, 10)  # p = 0.3, q = 0.6
    cases = [
        (p & q, 0.3),  # AND = min
        (p | q, 0.6),  # OR = max
        (~p, 0.7),  # NOT = 1 - p
        (p + q, 0.9),  # ADD
        (q + q, 1.0),  # 1.2 clamped
        (q - p, 0.3),  # SUB
        (p - q, 0.0),  # -0.3 clamped
        (p * q, 0.18),  # MUL
        (~(p & q) & q, 0.6),  # min(1 - 0.3, 0.6)
        ((q * 2) - q, 0.4),  # the product is clamped to 1 before the SUB: 1 - 0.6
    ]
    got = values(state, *[c for c, _ in cases[:6]])
    got = np.concatenate([got, values(state, *[c for c, _ in cases[6:]])])
    np.testing.assert_allclose(got, [v for _, v in cases], rtol=1e-6, atol=1e-7)


def test_numbers_as_operands_are_not_clamped():
    _, state = gold_world(3, 6)
    p, q = P.HoardGold(G1, 10), P.HoardGold(G2, 10)  # p = 0.3, q = 0.6
    cases = [
        (p * 2, 0.6),  # min(2p, 1)
        (q * 2, 1.0),  # 1.2 clamped
        (2 * q, 1.0),  # a number on the left of * works
        (0.5 + p, 0.8),  # and of +
        (p + -0.2, 0.1),  # a negative number operand is used as is
        (p * 1.5 + -0.25, 0.2),  # 0.45 - 0.25
    ]
    np.testing.assert_allclose(values(state, *[c for c, _ in cases]), [v for _, v in cases])


def test_number_minus_predicate_evaluates_predicate_minus_number():
    _, state = gold_world(3, 6)
    p, q = P.HoardGold(G1, 10), P.HoardGold(G2, 10)
    # the reference's quirk: `n - p` is SUB(p, n) = p - n, not n - p
    got = values(state, 0.8 - p, 0.1 - q, q - 0.1, 1 - p)
    np.testing.assert_allclose(got, [0.0, 0.5, 0.5, 0.0], atol=1e-7)  # 1 - p would be 0.7


def test_a_number_left_of_and_or_raises():
    p = P.HoardGold(G1, 10)
    with pytest.raises(TypeError):
        0.2 & p  # noqa: B018
    with pytest.raises(TypeError):
        0.2 | p  # noqa: B018
    with pytest.raises(TypeError):
        p & "x"  # noqa: B018


# --- task classes (SPEC 14.4)


def run(tasks, golds, actives=None, team=None):
    """Evaluates `tasks` (task i for player i + 1) after steps whose state has player 1's
    gold golds[t] at tick t + 1; returns (rewards [T, len(tasks)], progress, completed, final
    TaskState). `actives[t]` is the active mask of step t (default all)."""
    _, state = gold_world(0, 0, team=team)
    state_tasks = EV.start(state, tasks)
    rewards, progress, completed = [], [], []
    for t, gold in enumerate(golds):
        state = set_entity(state, 1, gold=gold).replace(tick=jnp.int32(t + 1))
        active = None if actives is None else actives[t]
        state_tasks, reward, info = EV.evaluate(state, state_tasks, active)
        k = len(tasks)
        rewards.append(reward[:k])
        progress.append(info["progress"][:k])
        completed.append(info["completed"][:k])
    return np.array(rewards), np.array(progress), np.array(completed), state_tasks


def test_task_reward_is_the_progress_increase_and_zero_after_completion():
    # HoardGold(1, 10) with gold 3, 7, 5, 10, 2: values 0.3, 0.7, 0.5, 1 (completed at tick 4), 0.2
    spec = TaskSpec(P.HoardGold(G1, 10))
    doubled = TaskSpec(P.HoardGold(G1, 10), reward_multiplier=2.0)
    rewards, progress, completed, final = run([spec, doubled], [3, 7, 5, 10, 2])
    np.testing.assert_allclose(rewards[:, 0], [0.3, 0.4, -0.2, 0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(rewards[:, 1], [0.6, 0.8, -0.4, 1.0, 0.0], atol=1e-6)  # x 2
    np.testing.assert_allclose(progress[:, 0], [0.3, 0.7, 0.5, 1.0, 1.0], atol=1e-6)  # kept
    assert completed[:, 0].tolist() == [False, False, False, True, True]
    assert int(final.completed_tick[0]) == 4
    assert float(final.max_progress[0]) == 1.0


def test_ongoing_task_pays_its_progress_every_tick():
    # values 0.3, 1 (completed), 1, 0.5: the reward is the value, also after completion
    spec = TaskSpec(P.HoardGold(G1, 10), task_cls="OngoingTask")
    rewards, progress, completed, final = run([spec], [3, 10, 12, 5])
    np.testing.assert_allclose(rewards[:, 0], [0.3, 1.0, 1.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(progress[:, 0], [0.3, 1.0, 1.0, 0.5], atol=1e-6)
    assert completed[:, 0].tolist() == [False, True, True, True]
    assert int(final.completed_tick[0]) == 2


def test_hold_duration_task_timer_resets_and_completion_pays_the_multiplier():
    # the value is 1 when gold >= 10: 1, 1, 0, 1, 1, 1, 1 with hold_duration 3:
    # timer 1, 2, 0, 1, 2, 3 -> progress 1/3, 2/3, 0, 1/3, 2/3, 1 (completed), then kept
    # rewards: the progress differences, -2/3 at the reset, and 1 (x multiplier) on completion
    golds = [10, 10, 5, 10, 10, 10, 10]
    hold = TaskSpec(P.HoardGold(G1, 10), task_cls="HoldDurationTask", hold_duration=3)
    hold2 = dataclasses.replace(hold, reward_multiplier=2.0)
    rewards, progress, completed, final = run([hold, hold2], golds)
    third = 1 / 3
    np.testing.assert_allclose(
        rewards[:, 0], [third, third, -2 * third, third, third, 1.0, 0.0], atol=1e-6
    )
    np.testing.assert_allclose(rewards[:, 1], 2 * rewards[:, 0], atol=1e-6)
    np.testing.assert_allclose(
        progress[:, 0], [third, 2 * third, 0, third, 2 * third, 1, 1], atol=1e-6
    )
    assert completed[:, 0].tolist() == [False] * 5 + [True, True]
    assert int(final.completed_tick[0]) == 6


def test_inactive_agents_get_no_reward_and_their_progress_freezes():
    # player 2's task reads player 1's gold: values 0.3, 0.6, 1, 0.8; player 2 is inactive in
    # steps 2 and 3 (dead at their start): no reward, progress and completion frozen at 0.3
    spec = TaskSpec(P.HoardGold(G1, 10))
    on, off = np.ones(6, bool), np.array([True, False, True, True, True, True])
    rewards, progress, completed, _ = run([spec, spec], [3, 6, 10, 8], [on, off, off, on])
    np.testing.assert_allclose(rewards[:, 0], [0.3, 0.3, 0.4, 0.0], atol=1e-6)
    np.testing.assert_allclose(rewards[:, 1], [0.3, 0.0, 0.0, 0.5], atol=1e-6)  # 0.8 - 0.3
    np.testing.assert_allclose(progress[:, 1], [0.3, 0.3, 0.3, 0.8], atol=1e-6)
    assert completed[:, 1].tolist() == [False, False, False, False]


def test_team_task_gives_every_member_the_teams_progress():
    # teams (0, 0, 0, 1, 1, 1); a team task's subject is the team: HoardGold of the team's gold
    team = (0, 0, 0, 1, 1, 1)
    _, state = gold_world(1, 2, 4, 3, 0, 0, team=team)
    tasks = [TaskSpec(P.HoardGold(amount=10), reward_to="team")] * 6
    # team 0: (1 + 2 + 4) / 10, team 1: 3 / 10; as an agent task, player 3 alone: 4 / 10
    got = EV.values(state, *tasks[:2], TaskSpec(P.HoardGold(amount=10)), *tasks[3:])
    np.testing.assert_allclose(got, [0.7, 0.7, 0.4, 0.3, 0.3, 0.3], atol=1e-6)


# --- binding target roles (SPEC 14.5): team order by id, the leader is the lowest id

TEAMS3 = (0, 0, 1, 1, 2, 2)  # teams {1, 2}, {3, 4}, {5, 6}


def test_target_roles_are_bound_to_player_masks():
    roles = [
        "left_team",
        "left_team_leader",
        "right_team",
        "right_team_leader",
        "my_team_leader",
        "all_foes",
        "all_foe_leaders",
    ]
    # player 3 (team 1): left = the next team (2) = {5, 6}, right = the previous (0) = {1, 2}
    want3 = [{5, 6}, {5}, {1, 2}, {1}, {3}, {1, 2, 5, 6}, {1, 5}]
    # player 6 (team 2): left wraps to team 0, right is team 1; its leader is 5
    want6 = [{1, 2}, {1}, {3, 4}, {3}, {5}, {1, 2, 3, 4}, {1, 3}]
    # player 1 (team 0): right wraps to team 2
    want1 = [{3, 4}, {3}, {5, 6}, {5}, {1}, {3, 4, 5, 6}, {3, 5}]
    for role, w3, w6, w1 in zip(roles, want3, want6, want1, strict=True):
        spec = TaskSpec(P.CheckAgentStatus(target=role, status="alive"))
        bound = table(CFG, [spec] * 6, TEAMS3)
        masks = np.asarray(bound.target)[:, -1]  # the root leaf of each row
        ids = [set((np.flatnonzero(m) + 1).tolist()) for m in masks]
        assert (ids[2], ids[5], ids[0]) == (w3, w6, w1), role
        assert (np.asarray(bound.target_kind) == 0).all()  # resolved


def test_bound_subjects_agent_and_team():
    specs = [
        TaskSpec(P.HoardGold(amount=10)),  # player 1: subject = {1}
        TaskSpec(P.HoardGold(amount=10), reward_to="team"),  # player 2: its team {1, 2}
        TaskSpec(P.HoardGold(Group([5, 6]), amount=10), reward_to="team"),  # explicit: kept
        TaskSpec(P.HoardGold(amount=10), reward_to="team"),  # player 4: {3, 4}
    ]
    bound = table(CFG, specs, TEAMS3)
    subject = np.asarray(bound.subject)[:, -1]
    members = [sorted(set(row.tolist()) - {0}) for row in subject]
    assert members[:4] == [[1], [1, 2], [5, 6], [3, 4]]
    assert (np.asarray(bound.subject_kind) == enc.SUBJECT_EXPLICIT).all()


def test_target_roles_evaluate_on_the_bound_masks():
    # 3-team world, player 5 dead: CheckAgentStatus(left_team, alive) for player 3 is team 2
    # {5, 6}: 1/2 alive; for player 1 it is team 1 {3, 4}: 1; all_foe_leaders of player 4:
    # {1, 5}: 1/2
    players = {pid: player(10, 9 + pid) for pid in range(1, 7)}
    _, state = world(players, tick=4, team=TEAMS3, horizon=HORIZON)
    state = set_entity(state, 5, alive=False, health=0)
    left = TaskSpec(P.CheckAgentStatus(target="left_team", status="alive"))
    leaders = TaskSpec(P.CheckAgentStatus(target="all_foe_leaders", status="alive"))
    got = values(state, left, P.Success(), left, leaders)
    np.testing.assert_allclose(got, [1.0, 1.0, 0.5, 0.5])


# --- encode and check_table errors name the field


def test_encode_errors_name_the_field():
    small = dataclasses.replace(CFG, task_group_size=2, task_nodes=4)
    p = P.HoardGold(G1, 10)
    with pytest.raises(ValueError, match="task_nodes"):  # 5 nodes: p, p, AND, p, AND
        encode([TaskSpec(p & p & p)], small)
    with pytest.raises(ValueError, match="subject.*task_group_size"):
        encode([TaskSpec(P.HoardGold(Group([1, 2, 3]), 10))], small)
    with pytest.raises(ValueError, match="subject ids must be in 1..player_n=6"):
        encode([TaskSpec(P.HoardGold(Group([7]), 10))], CFG)
    with pytest.raises(ValueError, match="subject ids"):
        encode([TaskSpec(P.HoardGold(Group([0]), 10))], CFG)
    with pytest.raises(ValueError, match="target ids"):
        encode([TaskSpec(P.CheckAgentStatus(G1, Group([2, 9]), "alive"))], CFG)
    with pytest.raises(ValueError, match="unknown predicate 'HoardSilver'"):
        TaskSpec(P.HoardSilver(G1, 10))
    with pytest.raises(ValueError, match="unknown argument 'amout'"):
        P.HoardGold(G1, amout=10)
    with pytest.raises(ValueError, match="missing argument 'amount'"):
        P.HoardGold(G1)
    with pytest.raises(ValueError, match="unknown item 'Sword'"):
        P.OwnItem(G1, "Sword", 1, 1)
    with pytest.raises(ValueError, match="unknown target role 'middle_team'"):
        P.CheckAgentStatus(target="middle_team", status="alive")
    with pytest.raises(ValueError, match="embedding has 3 values, task_embed_dim is 64"):
        encode([TaskSpec(p, embedding=np.zeros(3))], CFG)
    with pytest.raises(ValueError, match="hold_duration"):
        TaskSpec(p, task_cls="HoldDurationTask")
    with pytest.raises(ValueError, match="task_cls"):
        TaskSpec(p, task_cls="Quest")
    with pytest.raises(ValueError, match="reward_to"):
        TaskSpec(p, reward_to="everyone")


def test_encode_a_given_embedding_and_the_hash_embedding():
    p = P.HoardGold(G1, 10)
    t = encode([TaskSpec(p, embedding=np.full(64, 0.5)), TaskSpec(p), TaskSpec(p)], CFG)
    emb = np.asarray(t.embedding, np.float32)
    assert (emb[0] == 0.5).all()
    assert (emb[1] == emb[2]).all() and (np.abs(emb[1]) <= 1).all() and emb[1].any()


def _set(field, index, value):
    """Row 1 of a valid 3-row table with `field[index] = value` (index within the row)."""

    def corrupt(t):
        column = np.array(getattr(t, field))
        column[(1,) + index] = value
        return t.replace(**{field: column})

    return corrupt


def _forward_operand(t):
    """Row 1's root becomes AND(node 7, node 0): node 7 is the root itself, not earlier."""
    op, left = np.array(t.op), np.array(t.left)
    op[1, -1], left[1, -1] = enc.AND, 7
    return t.replace(op=op, left=left)


@pytest.mark.parametrize(
    "corrupt, field, what",
    [
        (_set("op", (-1,), 99), "op", "must be in"),
        (_set("op", (-1,), enc.NONE), "op", "root.* must not be empty"),
        (_set("pred", (-1,), 500), "pred", "registered predicate id"),
        (_forward_operand, "left", "earlier node"),
        (_set("subject", (-1, 0), 7), "subject", "ids must be in 0..player_n=6"),
        (_set("target_kind", (-1,), 8), "target_kind", "must be in"),
        (_set("weight", (), -1.0), "weight", "must be >= 0"),
        (_set("kind", (), 5), "kind", "must be in"),
        (_set("reward_to", (), 2), "reward_to", "must be 0"),
        (_set("multiplier", (), np.inf), "multiplier", "finite"),
    ],
)
def test_check_table_errors_name_the_row_and_the_field(corrupt, field, what):
    t = corrupt(encode([TaskSpec(P.HoardGold(G1, 10))] * 3, CFG))
    with pytest.raises(ValueError, match=f"task row 1: field '{field}' .*{what}"):
        enc.check_table(t, CFG)


def test_check_table_shape_and_weight_errors():
    t = encode([TaskSpec(P.HoardGold(G1, 10))] * 3, CFG)
    with pytest.raises(ValueError, match="field 'args' has shape"):
        enc.check_table(t.replace(args=np.asarray(t.args)[:, :, :2]), CFG)
    with pytest.raises(ValueError, match="weight.*must not all be 0"):
        enc.check_table(t.replace(weight=np.zeros(3, np.float32)), CFG)
    enc.check_table(t, CFG)  # the table itself is valid


# --- curriculum sampling (SPEC 14.5)


def _drawn(curriculum, team, seeds=40):
    """float [seeds, N]: the curriculum row each player got in `seeds` draws (identified by
    HoardGold's amount)."""
    table_ = jax.tree.map(jnp.asarray, curriculum)
    keys = jax.random.split(jax.random.key(0), seeds)
    rows = jax.vmap(lambda key: engine.sample(key, table_, jnp.asarray(team), CFG))(keys)
    return np.asarray(rows.args)[:, :, -1, 0]


def _curriculum(*specs):
    return encode(list(specs), CFG)


def test_sampling_weights_zero_never_drawn():
    c = _curriculum(
        TaskSpec(P.HoardGold(amount=1), sampling_weight=0.0),
        TaskSpec(P.HoardGold(amount=2), sampling_weight=1.0),
        TaskSpec(P.HoardGold(amount=3), sampling_weight=3.0),
    )
    drawn = _drawn(c, np.arange(6))
    assert set(np.unique(drawn)) == {2.0, 3.0}  # 240 draws: both others occur, 1 never
    assert (drawn == 3.0).mean() > (drawn == 2.0).mean()


def test_team_specs_give_every_member_the_same_row():
    team = np.array([0, 0, 0, 1, 1, 1])
    teams_only = _curriculum(
        TaskSpec(P.HoardGold(amount=1), reward_to="team"),
        TaskSpec(P.HoardGold(amount=2), reward_to="team"),
    )
    drawn = _drawn(teams_only, team)
    assert (drawn[:, :3] == drawn[:, :1]).all() and (drawn[:, 3:] == drawn[:, 3:4]).all()
    assert len(np.unique(drawn[:, 0])) == 2  # both rows occur
    # mixed with an agent spec: a team spec drawn is every member's, never only some's
    mixed = _curriculum(
        TaskSpec(P.HoardGold(amount=1)),
        TaskSpec(P.HoardGold(amount=2), reward_to="team"),
    )
    drawn = _drawn(mixed, team)
    for members in (drawn[:, :3], drawn[:, 3:]):
        has_team_spec = (members == 2.0).any(axis=1)
        assert (members[has_team_spec] == 2.0).all()
    assert (drawn == 1.0).any() and (drawn == 2.0).any()


def test_default_env_task_is_tick_ge_horizon():
    env = nmmo_jax.Env(CFG)
    c = env.curriculum
    assert len(c) == 1
    root = c.op.shape[1] - 1
    assert int(c.op[0, root]) == enc.LEAF and int(c.pred[0, root]) == predicate_id("TickGE")
    assert float(c.args[0, root, 0]) == -1.0  # num_tick None: the horizon
    assert int(c.kind[0]) == enc.TASK_KINDS["Task"] and float(c.multiplier[0]) == 1.0


# --- in the Env (one compiled step)

ENV = nmmo_jax.Env(
    CFG,
    tasks=[TaskSpec(P.TickGE()), TaskSpec(P.HoardGold(amount=10), reward_to="team")],
)
STEP = jax.jit(ENV.step)


def step(state, seed=0):
    obs, state, reward, terminated, truncated, info = STEP(
        jax.random.key(seed), state, ENV.noop_actions
    )
    return state, np.asarray(reward), np.asarray(terminated), np.asarray(truncated), info


def test_env_default_task_pays_one_over_horizon_and_the_dead_get_minus_one():
    # the default Env's tasks (TickGE(horizon 8)), stepped by the module's Env (whose curriculum
    # contains TickGE too); player 2 starves this step: 15 - 10 - 10 < 0 (SPEC 3.3)
    players = {pid: player(10, 9 + pid) for pid in range(1, 7)}
    players[2].update(food=0, water=0, health=15)
    _, state = world(players, horizon=HORIZON)
    state = nmmo_jax.Env(CFG).assign_tasks(jax.random.key(0), state)
    rewards, truncs = [], []
    for t in range(HORIZON + 1):
        state, reward, terminated, truncated, info = step(state, t)
        rewards.append(reward)
        truncs.append(truncated)
        if t == 0:
            assert terminated.tolist() == [False, True] + [False] * 4
            # the dying agent's task still shows its reward in the info (SPEC 13.5)
            np.testing.assert_allclose(np.asarray(info["task"]["reward"])[1], 1 / HORIZON)
    rewards = np.array(rewards)
    # 1/8 per tick while alive until the task completes at tick 8, then 0
    np.testing.assert_allclose(rewards[:, 0], [1 / HORIZON] * HORIZON + [0.0])
    # player 2: -1 on its death step, then 0; its progress froze at 1/8
    np.testing.assert_allclose(rewards[:, 1], [-1.0] + [0.0] * HORIZON)
    np.testing.assert_allclose(np.asarray(state.tasks.progress), [1, 1 / 8, 1, 1, 1, 1])
    assert truncs[HORIZON - 1].tolist() == [True, False, True, True, True, True]


def test_env_team_task_rewards_every_member_alike():
    # teams {1, 2, 3} and {4, 5, 6}; the team task HoardGold(team, 10) with gold 1, 2, 4 | 3, 0, 0
    # player 6 has the agent version instead: its own gold 0
    team = (0, 0, 0, 1, 1, 1)
    _, state = gold_world(1, 2, 4, 3, 0, 0, team=team)
    tasks = [TaskSpec(P.HoardGold(amount=10), reward_to="team")] * 5
    tasks.append(TaskSpec(P.HoardGold(amount=10)))
    state = ENV.set_tasks(state, tasks)  # bound to the state's teams
    state, reward, _, _, info = step(state)
    # a no-op step keeps the gold: team 0 progress 7/10, team 1 3/10, player 6 0
    np.testing.assert_allclose(reward, [0.7, 0.7, 0.7, 0.3, 0.3, 0.0], atol=1e-6)
    np.testing.assert_allclose(np.asarray(info["task"]["progress"]), reward, atol=1e-6)
    # player 3 is gone from the next step on: the others' team progress drops to 3/10 (4 gold
    # gone with its row), a reward of -0.4 each; the dead player gets -1
    dead = set_entity(state, 3, food=0, water=0, health=15)
    _, reward, terminated, _, _ = step(dead, 1)
    assert terminated.tolist() == [False, False, True, False, False, False]
    np.testing.assert_allclose(reward, [-0.4, -0.4, -1.0, 0.0, 0.0, 0.0], atol=1e-6)
