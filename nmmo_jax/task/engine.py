"""Task progress and rewards inside the compiled step (SPEC 13.4, 14.3-14.5).

Every player carries one task: a row of the TaskTable (`spec.py`), bound to ids when it is
assigned (`bind`): a subject left out becomes the agent (or its team, for `reward_to="team"`),
target roles ("left_team", "all_foes", ...) become player masks. A team task is one copy per
member; the copies have the same subject and so the same progress, which gives every member
the team task's reward, as the reference's single shared task does.

After each step `evaluate` computes all tasks together: every leaf of every task is a
predicate of a subject. Only the predicates that can occur are traced at all (`Env` collects
them from the curriculum, so the default TickGE task reads the tick and nothing else). The
predicates with a lowering (lowering.py: most built-ins are sums of per-player counters) are
one generic count over every leaf; each other predicate runs on the leaves that name it only
(`grouped_values`), not on every leaf. Under `vmap` a `lax.switch` on the predicate id would run
every branch on every leaf (a batched index turns it into a select). Then the combinators run
node by node, and the task classes turn progress into rewards.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from nmmo_jax.config import Config
from nmmo_jax.state import WorldState
from nmmo_jax.systems.teams import leaders, team_of
from nmmo_jax.task import predicates as preds
from nmmo_jax.task import spec as enc
from nmmo_jax.task.features import TaskMemory, empty_memory, features, remember
from nmmo_jax.task.lowering import Count, count_value, merge, source_tables
from nmmo_jax.task.query import Args, Query


@struct.dataclass
class TaskState:
    """The players' tasks and their progress (N = player_n).

    table         TaskTable [N]   each player's task, bound to ids
    progress      float32 [N]     the progress at the last evaluation (SPEC 14.4)
    completed     bool [N]
    completed_tick int32 [N]      the tick of completion (0 = not completed)
    max_progress  float32 [N]
    timer         int32 [N]       HoldDurationTask: consecutive ticks with value 1
    memory        TaskMemory      what the predicates remember (the members' last views)
    prepared      Prepared        the table's leaves, made once for the Env's Plan (`prepare`);
                                  None: `evaluate` makes them from `table` in each step
    """

    table: enc.TaskTable
    progress: jax.Array
    completed: jax.Array
    completed_tick: jax.Array
    max_progress: jax.Array
    timer: jax.Array
    memory: TaskMemory
    prepared: Prepared | None = None


def used_predicates(table: enc.TaskTable) -> tuple[int, ...]:
    """The predicate ids a (concrete) table's leaves name: the ones `evaluate` traces."""
    op, pred = np.asarray(table.op), np.asarray(table.pred)
    return tuple(sorted({int(p) for p in pred[op == enc.LEAF]}))


def new_state(table: enc.TaskTable, cfg: Config, views: bool, plan: Plan | None = None):
    """A TaskState: fresh progress for a bound table [N]; `views`: keep what players saw;
    `plan`: the Plan `evaluate` will be given (its leaves are then prepared once, here)."""
    n = cfg.player_n
    zeros = jnp.zeros(n, jnp.float32)
    return TaskState(
        table=table,
        progress=zeros,
        completed=jnp.zeros(n, bool),
        completed_tick=jnp.zeros(n, jnp.int32),
        max_progress=zeros,
        timer=jnp.zeros(n, jnp.int32),
        memory=empty_memory(cfg, views),
        prepared=None if plan is None or not plan.used else prepare(table, cfg, plan),
    )


def sample(key: jax.Array, curriculum: enc.TaskTable, team: jax.Array, cfg: Config):
    """A TaskTable [N]: one row of `curriculum` per player, drawn by sampling weight (with
    replacement, SPEC 14.5): per player for agent tasks, per team (every member the same row)
    for team tasks. Unbound: pass it to `bind`."""
    n = cfg.player_n
    weight = jnp.asarray(curriculum.weight, jnp.float32)
    draws = jax.random.categorical(key, jnp.log(weight), shape=(n,))
    is_team = jnp.asarray(curriculum.reward_to) == enc.REWARD_TO["team"]
    per_team = is_team[draws[team]]
    # where the team drew an agent spec, each member takes its own draw; a member whose own
    # draw is a team spec draws again among the agent specs (else that team spec would go to
    # that member only, not to its whole team); each row keeps its share weight / total
    agent_logits = jnp.log(jnp.where(is_team, 0.0, weight))
    redraw = jax.random.categorical(jax.random.fold_in(key, 1), agent_logits, shape=(n,))
    own = jnp.where(is_team[draws], redraw, draws)
    rows = jnp.where(per_team, draws[team], own)
    return jax.tree.map(lambda column: jnp.asarray(column)[rows], curriculum)


def bind(table: enc.TaskTable, team: jax.Array, cfg: Config) -> enc.TaskTable:
    """Row a of `table` [N] as agent a's task: subjects left out become the agent (or its team
    for reward_to team, the first task_group_size members by id), target roles become masks
    over players (SPEC 14.5; team order = team id, the leader = the lowest id)."""
    n, g = cfg.player_n, cfg.task_group_size
    ids = jnp.arange(1, n + 1)
    same_team = team[:, None] == team[None, :]  # [N, N]
    n_teams = team.max() + 1
    leader = leaders(team)
    # the first g members of each agent's team, by id
    rank = jnp.cumsum(same_team, axis=1) - 1
    place = jnp.where(same_team & (rank < g), rank, g)
    team_ids = jnp.zeros((n, g + 1), jnp.int32).at[jnp.arange(n)[:, None], place].set(ids)[:, :g]
    own = jnp.zeros((n, g), jnp.int32).at[:, 0].set(ids)
    team_task = (table.reward_to == enc.REWARD_TO["team"])[:, None, None]
    assignee_ids = jnp.where(team_task, team_ids[:, None, :], own[:, None, :])  # [N, 1, G]
    by_assignee = (table.subject_kind == enc.SUBJECT_ASSIGNEE)[..., None]
    subject = jnp.where(by_assignee, assignee_ids, table.subject)

    def team_mask(t):  # [N, N]: players of team t[a] for each agent a
        return team[None, :] == t[:, None]

    left, right = (team + 1) % n_teams, (team - 1) % n_teams
    roles = {
        "left_team": team_mask(left),
        "left_team_leader": team_mask(left) & leader[None, :],
        "right_team": team_mask(right),
        "right_team_leader": team_mask(right) & leader[None, :],
        "my_team_leader": same_team & leader[None, :],
        "all_foes": ~same_team,
        "all_foe_leaders": ~same_team & leader[None, :],
    }
    target = table.target
    for role, mask in roles.items():
        chosen = (table.target_kind == enc.TARGET_ROLES[role])[..., None]
        target = jnp.where(chosen, mask[:, None, :], target)
    return table.replace(
        subject_kind=jnp.zeros_like(table.subject_kind),
        subject=subject.astype(jnp.int32),
        target_kind=jnp.zeros_like(table.target_kind),
        target=target,
    )


def uses_views(used: tuple[int, ...]) -> bool:
    return any(preds.definition(p).views for p in used)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the compiled evaluation needs to know of the tasks it can meet (static): the
    predicate ids, the most leaves of one task, the most members of one subject. `Env` makes
    it from its curriculum (`plan`), so a curriculum of single predicates of single agents
    evaluates one leaf of one member per task, however large task_nodes and task_group_size.
    `places`: (predicate id, places per round) for the predicates `grouped_values` runs on the
    leaves that name them, sized to the leaves the curriculum is expected to give each (empty:
    twice an even share of all leaves)."""

    used: tuple[int, ...]
    leaves: int
    group: int
    nodes: int = 0  # the most nodes of a task (they are the last ones); 0 = all
    places: tuple[tuple[int, int], ...] = ()


def plan(table: enc.TaskTable, cfg: Config) -> Plan:
    """The Plan of a concrete (unbound) table: its predicates, its most leaves per task, and
    its largest subject (an explicit group, or the assignee: one player, or a team for team
    tasks)."""
    op = np.asarray(table.op)
    is_leaf = op == enc.LEAF
    leaves = max(1, int(is_leaf.sum(axis=1).max()))
    explicit = (np.asarray(table.subject) > 0).sum(axis=2)  # [A, L]
    # a team task's subject is the assignee's team: as large as the largest team of
    # cfg.team_n, or, where teams come from elsewhere (the state's team column), any size
    team_size = cfg.task_group_size
    if cfg.team_n:
        team_size = int(np.bincount(team_of(cfg)).max())
    by_assignee = np.where(
        np.asarray(table.reward_to)[:, None] == enc.REWARD_TO["team"], team_size, 1
    )
    size = np.where(np.asarray(table.subject_kind) == enc.SUBJECT_ASSIGNEE, by_assignee, explicit)
    group = max(1, int(np.where(is_leaf, size, 0).max()))
    nodes = max(1, int((op != enc.NONE).sum(axis=1).max()))
    used = used_predicates(table)
    # each predicate's expected leaves among the player_n tasks drawn by weight (SPEC 14.5),
    # plus two standard deviations: a round of `grouped_values` evaluates a predicate on this
    # many places (kept within 1..M there), and a rare overflow takes one more round
    weight = np.asarray(table.weight, np.float64)
    share = weight / weight.sum() if weight.sum() > 0 else np.full(len(weight), 1 / len(weight))
    pred = np.where(is_leaf, np.asarray(table.pred), -1)
    places = []
    for pid in used:
        expected = cfg.player_n * float((share * (pred == pid).sum(axis=1)).sum())
        places.append((pid, int(np.ceil(expected + 2 * np.sqrt(expected)))))
    return Plan(used, leaves, min(group, cfg.task_group_size), nodes, tuple(places))


NODE_FIELDS = ("op", "pred", "args", "left", "right", "const", "subject_kind", "subject",
               "target_kind", "target")  # fmt: skip


def trim(table: enc.TaskTable, nodes: int) -> enc.TaskTable:
    """`table` with only its last `nodes` nodes (the encoding right-aligns every program, so
    the others are empty where the Plan says so); operand indices shifted to match."""
    n_nodes = table.op.shape[-1]
    if not nodes or nodes >= n_nodes:
        return table
    cut = {f: getattr(table, f)[:, n_nodes - nodes :] for f in NODE_FIELDS}
    cut["left"] = jnp.maximum(cut["left"] - (n_nodes - nodes), 0)
    cut["right"] = jnp.maximum(cut["right"] - (n_nodes - nodes), 0)
    return table.replace(**cut)


def full_plan(used: tuple[int, ...], cfg: Config) -> Plan:
    """A Plan for any table of `cfg`'s shapes that names only `used` predicates."""
    return Plan(tuple(used), cfg.task_nodes, cfg.task_group_size)


def leaf_positions(table: enc.TaskTable, leaves: int) -> jax.Array:
    """int32 [A, leaves]: the node index of each task's k-th leaf (L where it has fewer)."""
    a, n_nodes = table.op.shape
    is_leaf = table.op == enc.LEAF
    rank = jnp.cumsum(is_leaf, axis=1) - 1
    slot = jnp.where(is_leaf & (rank < leaves), rank, leaves)
    nodes = jnp.broadcast_to(jnp.arange(n_nodes, dtype=jnp.int32), (a, n_nodes))
    out = jnp.full((a, leaves + 1), n_nodes, jnp.int32)
    return out.at[jnp.arange(a)[:, None], slot].set(nodes)[:, :leaves]


@struct.dataclass
class Prepared:
    """What `leaf_values` needs of a bound table that stays the same for an episode, computed
    once when the tasks are assigned (`prepare`) rather than in every step: the leaves'
    places, their predicates' arguments, subjects and targets, the Counts of the lowered
    leaves and the order of the others. (Recomputed in each step they were ~45 of the ~150
    kernels a step of 128 different tasks runs.)

    where      int32 [A, K]  the node index of each task's k-th leaf (`leaf_positions`)
    leaves     (pred, args, subject, target) [M = A * K, ...] at those places
    chosen     bool [M]      the leaf's predicate is lowered
    count      dict          the lowered leaves' Counts (`lower`), None if none is
    grouping   the other leaves' order (`group`), None if there are none
    plan       the Plan it was made for (static)
    lower      whether the lowered predicates were lowered (static)
    """

    where: jax.Array
    leaves: tuple
    chosen: jax.Array
    count: dict | None
    grouping: tuple | None
    plan: Plan = struct.field(pytree_node=False)
    lower: bool = struct.field(pytree_node=False, default=True)


def prepare(table: enc.TaskTable, cfg: Config, p: Plan, lower_leaves: bool = True) -> Prepared:
    """The Prepared form of a bound TaskTable [A] for Plan `p` (`lower_leaves`: use the
    predicates' lowerings)."""
    table = trim(table, p.nodes)
    n_nodes = table.op.shape[-1]
    where = leaf_positions(table, p.leaves)  # [A, K]
    at = jnp.minimum(where, n_nodes - 1)

    def pick(x):  # [A, L, ...] -> [A * K, ...] at the leaf positions
        index = at.reshape(at.shape + (1,) * (x.ndim - 2))
        return jnp.take_along_axis(x, index, axis=1).reshape((-1,) + x.shape[2:])

    lowered, others = split(p, lower_leaves)
    leaves = (pick(table.pred), pick(table.args), pick(table.subject[..., : p.group]),
              pick(table.target))  # fmt: skip
    pred = leaves[0]
    chosen = functools.reduce(jnp.logical_or, [pred == pid for pid in lowered], pred < 0)
    return Prepared(
        where=where,
        leaves=leaves,
        chosen=chosen,
        count=lower(leaves, lowered, cfg) if lowered else None,
        grouping=group(pred, others) if others else None,
        plan=p,
        lower=lower_leaves,
    )


def split(p: Plan, lower_leaves: bool = True) -> tuple[list[int], list[int]]:
    """(lowered, others): the Plan's predicates with a lowering (`lower_leaves`) and the rest."""
    lowered = [pid for pid in p.used if lower_leaves and preds.definition(pid).lower is not None]
    return lowered, [pid for pid in p.used if pid not in lowered]


def leaf_values(f, table: enc.TaskTable, cfg: Config, p: Plan, lower: bool = True) -> jax.Array:
    """float32 [A, L]: every leaf's predicate value, clamped to [0, 1] (0 for other nodes).
    Only the first `p.leaves` leaves of a task and the first `p.group` members of a subject are
    read (the Plan guarantees there are no more). The predicates with a lowering (`lower`,
    lowering.py) are evaluated together as one generic count over every leaf; each other
    predicate only on the leaves that name it (`grouped_values`)."""
    if not p.used:
        return jnp.zeros(table.op.shape, jnp.float32)
    return prepared_values(f, prepare(table, cfg, p, lower), table.op.shape, cfg)


def prepared_values(f, prepared: Prepared, shape, cfg: Config):
    """`leaf_values` from the table's Prepared form; `shape`: the [A, L] of the table trimmed
    to the Plan's nodes (`trim`), whose node indices `where` holds."""
    lowered, others = split(prepared.plan, prepared.lower)
    leaves = prepared.leaves
    values = jnp.zeros(leaves[0].shape, jnp.float32)
    if lowered:
        values = values + lowered_values(f, leaves, prepared.count, prepared.chosen, cfg)
    if others:
        places = dict(prepared.plan.places)
        caps = [places[pid] for pid in others] if places else None
        values = values + grouped_values(f, leaves, others, prepared.grouping, cfg, caps)
    a, n_nodes = shape
    # each task's leaves to their nodes (`where`: distinct nodes, or n_nodes for none) as a
    # select-sum, not a scatter (a kernel of its own on XLA:CPU)
    hit = prepared.where[:, :, None] == jnp.arange(n_nodes)  # [A, K, nodes]
    return jnp.where(hit, values.reshape(a, prepared.plan.leaves)[:, :, None], 0.0).sum(1)


def _clean(value: jax.Array) -> jax.Array:
    return jnp.clip(jnp.nan_to_num(jnp.asarray(value, jnp.float32)), 0.0, 1.0)


def lower(leaves, lowered: list[int], cfg: Config) -> dict:
    """The Count (lowering.py) of every leaf (pred, args: [M, ...]) as a dict of arrays [M,
    ...]: the fields of the leaf's own predicate among `lowered` (zero terms elsewhere)."""
    pred, args = leaves[:2]

    def lower_one(pred, args):
        counts = {}
        for pid in lowered:
            d = preds.definition(pid)
            counts[pid] = d.lower(Args(d.params, args), cfg)
        return dataclasses.asdict(merge(pred, counts))

    return jax.vmap(lower_one)(pred, args)


def lowered_values(f, leaves, count: dict, chosen: jax.Array, cfg: Config) -> jax.Array:
    """float32 [M]: the value of each leaf (pred, args, subject, target: [M, ...]) whose
    predicate is lowered (`chosen`), as one generic count per leaf (lowering.py, `count`:
    `lower`); 0 elsewhere."""
    _, _, subject, target = leaves
    tables = source_tables(f, tuple(count["terms"]))  # once, not per leaf

    def one(chosen, subject, target, count):
        query = Query(f, subject - 1, target, cfg)
        value = _clean(count_value(query, Count(**count), tables))
        return jnp.where(chosen, value, 0.0)

    return jax.vmap(one)(chosen, subject, target, count)


def group(pred: jax.Array, others: list[int]):
    """(leaf_of, counts) int32 [M], [P]: the leaves ordered by their predicate's index in
    `others` (then by position; the others last), and how many leaves name each of them."""
    m, n_preds = pred.shape[0], len(others)
    local = jnp.full(pred.shape, n_preds, jnp.int32)  # the leaf's index in `others`
    for k, pid in enumerate(others):
        local = jnp.where(pred == pid, k, local)
    index = jnp.arange(m, dtype=jnp.int32)
    leaf_of = jnp.sort(local * m + index) % m
    counts = (local[None, :] == jnp.arange(n_preds)[:, None]).sum(axis=1, dtype=jnp.int32)
    return leaf_of, counts


def grouped_values(f, leaves, others: list[int], grouping, cfg: Config, caps=None) -> jax.Array:
    """float32 [M]: the value of each leaf (pred, args, subject, target: [M, ...]) whose
    predicate is among `others`, each predicate run by its own `fn` on the leaves that name it
    only; 0 elsewhere. `grouping`: `group(pred, others)`.

    Predicate k has `caps[k]` places per round (static; the Plan's `places`, the leaves the
    curriculum is expected to give it; default twice its share of the M leaves); a round gives
    the next `caps[k]` leaves of every predicate their places, evaluates every predicate on its
    places (vectorised) and scatters the values back. Rounds repeat while some predicate has
    leaves left: one round when the places fit the tasks drawn, up to M / cap when one
    predicate holds them all. Evaluating every predicate on every leaf and selecting (the first
    version) did P times the work: 16 unlowered predicates on 128 leaves cost ~80 us per
    env-step; places sized to the curriculum rather than to an even share of all leaves took
    `evaluate` a further 10-20 % down (128 different tasks, 60 leaves on 16 such predicates:
    8 places each instead of 16). An overflow of any one predicate (a draw of more leaves
    than the Plan expected, for the episode) runs every predicate's places again in the next
    round: correct, at the cost of that round."""
    _, args, subject, target = leaves
    m, n_preds = args.shape[0], len(others)
    if caps is None:
        caps = [min(m, -(-2 * m // n_preds))] * n_preds
    caps = [min(max(int(c), 1), m) for c in caps]
    # the places of every predicate side by side: predicate k's are [offset[k], offset[k+1])
    offset = np.concatenate([[0], np.cumsum(caps)])
    pred_of = jnp.asarray(np.repeat(np.arange(n_preds), caps), jnp.int32)
    rank_in = jnp.asarray(np.arange(offset[-1]) - np.repeat(offset[:-1], caps), jnp.int32)
    cap_of = jnp.asarray(np.repeat(caps, caps), jnp.int32)
    # predicate k's leaves are leaf_of[start[k] : start[k] + number[k]]
    leaf_of, number = grouping
    start = jnp.cumsum(number) - number
    per_round = jnp.asarray(caps, jnp.int32)
    rounds = jnp.max((number + per_round - 1) // per_round)

    def one_round(r, values):
        # every predicate's places of this round at once: one gather of the leaves'
        # arguments for all predicates and one scatter of their values (a gather and a
        # scatter per predicate were ~100 small kernels per step)
        rank = r * cap_of + rank_in
        slot = jnp.minimum(start[pred_of] + rank, m - 1)
        at = jnp.where(rank < number[pred_of], leaf_of[slot], m)
        got = jnp.minimum(at, m - 1)
        taken = [x[got] for x in (args, subject)]
        value = []
        for k, pid in enumerate(others):
            d = preds.definition(pid)
            here = slice(int(offset[k]), int(offset[k + 1]))

            def run(args, subject, target, d=d):
                query = Query(f, subject - 1, target, cfg)
                return jnp.asarray(d.fn(query, Args(d.params, args)), jnp.float32)

            # the target masks per predicate: only the few predicates that read them keep
            # their gather (XLA drops the others')
            value.append(jax.vmap(run)(taken[0][here], taken[1][here], target[got[here]]))
        value = _clean(jnp.concatenate(value))
        return values.at[at].set(value, mode="drop")

    return jax.lax.fori_loop(0, rounds, one_round, jnp.zeros(m, jnp.float32))


def leaf_values_switch(f, table: enc.TaskTable, cfg: Config, p: Plan):
    """`leaf_values` by a `lax.switch` per leaf inside a sequential `lax.map`: each leaf runs
    only its own predicate, one leaf after another. Kept to measure against the one-pass
    select (bench/bench_tasks.py --variants heavy,heavy-switch); not used by the step."""
    used = p.used
    if not used:
        return jnp.zeros(table.op.shape, jnp.float32)

    def branch(pid):
        d = preds.definition(pid)

        def run(args, subject, target):
            value = jnp.asarray(d.fn(Query(f, subject - 1, target, cfg), Args(d.params, args)))
            return jnp.clip(jnp.nan_to_num(value.astype(jnp.float32)), 0.0, 1.0)

        return run

    branches = [branch(pid) for pid in used]
    lookup = (
        jnp.zeros(max(used) + 1, jnp.int32)
        .at[jnp.asarray(used)]
        .set(jnp.arange(len(used), dtype=jnp.int32))
    )

    def one(leaf):
        pred, args, subject, target = leaf
        known = (pred <= max(used)) & jnp.isin(pred, jnp.asarray(used))
        value = jax.lax.switch(
            lookup[jnp.clip(pred, 0, max(used))], branches, args, subject, target
        )
        return jnp.where(known, value, 0.0)

    def flat(x):
        return x.reshape((-1,) + x.shape[2:])

    leaves = (flat(table.pred), flat(table.args), flat(table.subject), flat(table.target))
    return jax.lax.map(one, leaves).reshape(table.op.shape)


# The leaf evaluation the step uses: "select" (the lowered predicates as one generic count, each
# other one on the leaves that name it: leaf_values), "direct" (every predicate by its `fn` on
# the leaves that name it) or "switch" (leaf_values_switch). Measured side by side
# (bench/bench_tasks.py, 4 envs x 128 players, 128 different tasks over all 34 built-ins,
# bench/RESULTS.md): switch +62.8 % over the game alone against +21.5 % for the one-pass
# evaluation then (2026-12-06): 128 sequential switch calls cost more than 34 predicates
# evaluated as vector code, since XLA on CPU runs a lax.map body one leaf at a time. Until
# 2026-12-07 every unlowered predicate ran on every leaf and each leaf selected its own (P
# times the work for P predicates); grouping them took `evaluate` alone from ~80 to ~50 us per
# env (docs/PERFORMANCE.md). "select" is kept: timed alone, its cost does not grow with the
# number of lowered predicates a curriculum holds. Inside the step its cost is mostly the
# number of kernels (each has a fixed launch cost on XLA CPU): gathering every predicate's
# places at once and preparing the leaves at assignment (`prepare`) took the table from ~150
# to ~110 kernels per step and from +11-13 % to +6.6 % (4 envs) and +8.0 % (16 envs) over the
# game alone (2026-12-07, bench/RESULTS.md). Later the work per place proved the larger part:
# places sized to the curriculum (`Plan.places`) and a packed inventory for the lowered item
# counts took the table to +3-8 % of a step made faster meanwhile (docs/PERFORMANCE.md).
LEAF_MODES = {
    "select": leaf_values,
    "direct": functools.partial(leaf_values, lower=False),
    "switch": leaf_values_switch,
}
LEAF_MODE = "select"


def combine(table: enc.TaskTable, leaves: jax.Array) -> jax.Array:
    """float32 [A]: the root value of each task's node program (SPEC 14.3: AND = min, OR =
    max, NOT = 1 - a, ADD, SUB, MUL clamped to [0, 1]; numbers are not clamped)."""
    a, n_nodes = table.op.shape
    rows = jnp.arange(a)
    values = jnp.zeros((a, n_nodes), jnp.float32)
    for k in range(n_nodes):
        op = table.op[:, k]
        left = values[rows, table.left[:, k]]
        right = values[rows, table.right[:, k]]
        combined = jnp.select(
            [op == enc.AND, op == enc.OR, op == enc.NOT, op == enc.ADD, op == enc.SUB],
            [
                jnp.minimum(left, right),
                jnp.maximum(left, right),
                1.0 - left,
                left + right,
                left - right,
            ],
            left * right,
        )
        node = jnp.where(
            op == enc.LEAF,
            leaves[:, k],
            jnp.where(op == enc.CONST, table.const[:, k], jnp.clip(combined, 0.0, 1.0)),
        )
        values = values.at[:, k].set(jnp.where(op == enc.NONE, 0.0, node))
    return jnp.clip(values[:, -1], 0.0, 1.0)


def progress_values(state: WorldState, tasks: TaskState, cfg: Config, used) -> tuple:
    """(value float32 [N], memory): each player's task value after a step; `used` is a Plan
    or a tuple of predicate ids (then every node and member is read)."""
    p = used if isinstance(used, Plan) else full_plan(used, cfg)
    memory = tasks.memory
    if uses_views(p.used):
        memory = remember(memory, state, cfg)
    f = features(state, memory, cfg)
    table = trim(tasks.table, p.nodes)
    prepared = tasks.prepared
    if LEAF_MODE == "select" and prepared is not None and prepared.plan == p and prepared.lower:
        leaves = prepared_values(f, prepared, table.op.shape, cfg)
    else:
        leaves = LEAF_MODES[LEAF_MODE](f, table, cfg, p)
    return combine(table, leaves), memory


def evaluate(state: WorldState, tasks: TaskState, active: jax.Array, cfg: Config, used):
    """(tasks, reward float32 [N], info): the task rewards of a step (SPEC 14.4). `active`
    [N]: the players current in this step (alive at its start); the others' tasks are not
    evaluated and give 0."""
    value, memory = progress_values(state, tasks, cfg, used)
    table = tasks.table
    kind = table.kind
    completed = tasks.completed
    # Task: the increase of progress, nothing after completion
    task_progress = jnp.where(completed, tasks.progress, value)
    task_reward = jnp.where(completed, 0.0, value - tasks.progress)
    # HoldDurationTask: consecutive ticks with value 1 over the duration; 1 on completion
    timer = jnp.where(value >= 1.0, tasks.timer + 1, 0)
    timer = jnp.where(completed, tasks.timer, timer)
    hold = jnp.maximum(table.hold, 1)
    hold_progress = jnp.where(completed, tasks.progress, timer / hold)
    finishing = ~completed & (hold_progress >= 1.0)
    hold_reward = jnp.where(
        completed, 0.0, jnp.where(finishing, 1.0, hold_progress - tasks.progress)
    )
    is_hold = kind == enc.TASK_KINDS["HoldDurationTask"]
    is_ongoing = kind == enc.TASK_KINDS["OngoingTask"]
    progress = jnp.where(is_hold, hold_progress, jnp.where(is_ongoing, value, task_progress))
    reward = jnp.where(is_hold, hold_reward, jnp.where(is_ongoing, value, task_reward))
    reward = (reward * table.multiplier).astype(jnp.float32)
    now_completed = completed | (progress >= 1.0)
    progress = jnp.where(active, progress, tasks.progress).astype(jnp.float32)
    now_completed = jnp.where(active, now_completed, completed)
    tasks = tasks.replace(
        progress=progress,
        completed=now_completed,
        completed_tick=jnp.where(now_completed & ~completed, state.tick, tasks.completed_tick),
        max_progress=jnp.maximum(tasks.max_progress, progress),
        timer=jnp.where(active & is_hold, timer, tasks.timer).astype(jnp.int32),
        memory=memory,
    )
    reward = jnp.where(active, reward, 0.0)
    info = {"progress": progress, "completed": now_completed, "reward": reward}
    return tasks, reward, info
