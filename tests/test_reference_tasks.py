"""Step-for-step parity with the reference nmmo 2.1.2 for the task system (SPEC 13.4, 14).

tests/data/reference_tasks_trajectory.npz (written by make_reference_tasks_trajectory.py) holds
the first steps of the combat recording (test_reference_combat.py: 128 agents with weapons,
ammunition, armour and tools, walking, eating, fighting, looting, starving) with one task per
agent through the reference's `env.reset(make_task_fn=...)`: about a hundred templates that
cover every built-in predicate (TickGE ... ProtectLeader, SeizeTile never held), single and
multi-agent subjects, targets, the combinators AND OR NOT ADD SUB MUL with numbers (`0.9 - p`
included), OngoingTask and HoldDurationTask, reward multipliers; the reference's progress,
task reward, completion and step reward of every agent after every step. We start from the
same world, give every agent the same task (rebuilt from the recorded task dicts with `P`,
`Group`, `TaskSpec`; a subject of the agent itself left out, so it is bound on assignment),
replay the actions and compare.

No case needs excluding for SPEC 14.3's documented deviations: the recording avoids them
(ProgressTowardCenter only with one member, AllMembersWithinRange with dist > 0, a fresh Group
for every predicate so that the Group cache quirk of 14.1 never fires).
"""

import json
import operator
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference_world import replay_config
from test_reference_combat import recorded_actions
from test_reference_items import initial_state

import nmmo_jax as nj
from nmmo_jax.task import Group, TaskSpec, encode, make

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_tasks_trajectory.npz"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="no task recording")
OPERATORS = {"AND": operator.and_, "OR": operator.or_, "ADD": operator.add}
OPERATORS.update({"SUB": operator.sub, "MUL": operator.mul})
ATOL = 1e-6  # float32 here, float64 in the reference


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA) as data:
        out = {k: data[k] for k in data.files}
    out["tasks"] = json.loads(str(out["tasks"]))
    out["task_names"] = json.loads(str(out["task_names"]))
    return out


def build_expr(node):
    """Our expression of a recorded node (the recording's docstring); a null subject is the
    assignee."""
    if isinstance(node, (int, float)):
        return float(node)
    if "op" in node:
        args = [build_expr(x) for x in node["args"]]
        return ~args[0] if node["op"] == "NOT" else OPERATORS[node["op"]](*args)
    subject = None if node["subject"] is None else Group(node["subject"])
    return make(node["pred"], subject=subject, **node["kwargs"])


def build_spec(task) -> TaskSpec:
    return TaskSpec(
        build_expr(task["expr"]),
        task_cls=task["cls"],
        reward_multiplier=task["multiplier"],
        hold_duration=task["hold"],
    )


@pytest.fixture(scope="module")
def replay(ref):
    specs = [build_spec(task) for task in ref["tasks"]]
    cfg = replay_config(ref).replace(task_nodes=8)
    n = cfg.player_n
    table = encode(specs, cfg)
    env = nj.Env(cfg, tasks=table)
    recorded = jnp.asarray(ref["actions"], jnp.int32)  # [T, N, 6], as in the combat recording

    @jax.jit
    def rollout(state, table, recorded):
        state = env.set_tasks(state, table)  # player i: task i (compiled with the replay)

        def body(state, step):
            actions = recorded_actions(state, cfg, step)
            _, state, reward, _, _, info = env.step(jax.random.key(1), state, actions)
            task = info["task"]
            out = dict(
                alive=info["alive"],
                reward=reward,
                progress=task["progress"],
                task_reward=task["reward"],
                completed=task["completed"],
            )
            return state, out

        return jax.lax.scan(body, state, recorded)

    _, out = rollout(initial_state(ref, cfg), table, recorded)
    assert out["progress"].shape == (len(recorded), n)
    return {k: np.asarray(v) for k, v in out.items()}


def assert_close(ref, name, ours, theirs, atol=ATOL):
    """ours ~ theirs wherever the agent was current; else a message with the count, the tasks
    that differ and the first mismatch."""
    present = ref["obs_present"]
    bad = present & ~np.isclose(ours, theirs, rtol=0, atol=atol)
    if not bad.any():
        return
    steps, agents = np.nonzero(bad)
    t, a = steps[0], agents[0]
    tasks = sorted({ref["task_names"][i] for i in np.unique(agents)})
    raise AssertionError(
        f"{name}: {int(bad.sum())} mismatches in {len(tasks)} tasks; first after step {t + 1}, "
        f"agent {a + 1} {ref['task_names'][a]}: ours {ours[t, a]!r}, reference "
        f"{theirs[t, a]!r}; tasks: " + "; ".join(tasks[:10])
    )


def test_recording_is_informative(ref):
    """Most tasks move, many complete, over many different predicates and task classes."""
    present = ref["obs_present"]
    progress = np.where(present, ref["progress"], 0.0)
    moved = progress.max(axis=0) > 0
    completed = (ref["completed"] & present).any(axis=0)
    assert moved.mean() >= 0.6, moved.mean()
    assert completed.sum() >= 25, completed.sum()
    # the progress of several tasks falls as well as rises (negative rewards)
    assert ((ref["task_reward"] < 0) & present).any(axis=0).sum() >= 5

    def predicates(node, out):
        if isinstance(node, dict):
            if "pred" in node:
                out.add(node["pred"])
            for x in node.get("args", ()):
                predicates(x, out)
        return out

    moving = set()
    for task, m in zip(ref["tasks"], moved, strict=True):
        if m and "op" not in task["expr"]:
            predicates(task["expr"], moving)
    assert len(moving) >= 25, sorted(moving)
    kinds = {task["cls"] for task, c in zip(ref["tasks"], completed, strict=True) if c}
    assert kinds == {"Task", "OngoingTask", "HoldDurationTask"}, kinds
    ops = {
        task["expr"]["op"]
        for task, m in zip(ref["tasks"], moved, strict=True)
        if m and "op" in task["expr"]
    }
    assert ops == {"AND", "OR", "NOT", "ADD", "SUB", "MUL"}, ops


def test_trajectory_matches(ref, replay):
    """The world moves as in the reference (test_reference_combat.py checks it in detail)."""
    np.testing.assert_array_equal(replay["alive"], ref["alive"])


def test_progress_matches(ref, replay):
    """infos[a]["task"][name]["progress"] of every current agent after every step."""
    assert_close(ref, "progress", replay["progress"], ref["progress"])


def test_completion_matches(ref, replay):
    present = ref["obs_present"]
    np.testing.assert_array_equal(replay["completed"][present], ref["completed"][present])


def test_task_rewards_match(ref, replay):
    """The task reward in the info: progress differences, times the multiplier; OngoingTask's
    progress; HoldDurationTask's 1 on completion (SPEC 14.4)."""
    assert_close(ref, "task reward", replay["task_reward"], ref["task_reward"])


def test_step_rewards_match(ref, replay):
    """The reward of the step: the task reward, -1 in the step of death (SPEC 13.4)."""
    assert_close(ref, "reward", replay["reward"], ref["rewards"])
