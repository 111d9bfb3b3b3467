"""Tasks written in Python, encoded as fixed-size numeric rows (SPEC 14.3-14.5).

Write predicates as in the reference and combine them with its operators:

    from nmmo_jax.task import P, Group, TaskSpec
    p = P.HarvestItem(item="Ration", level=1, quantity=3) & P.StayAlive()
    spec = TaskSpec(p, reward_to="agent")            # subject left out: the assigned agent

    explicit = P.TickGE(Group([1, 2]), num_tick=10) | 0.5 * P.CountEvent(Group(3), "EAT_FOOD", 4)

`encode(specs, cfg)` turns a list of specs into a `TaskTable` (numpy arrays, one row per
spec); each row is a small program of `cfg.task_nodes` nodes: predicate leaves (a registered
predicate id, its arguments, its subject and target group), numbers, and the combinators AND,
OR, NOT, ADD, SUB, MUL in an order where operands come before their combination, the last node
the root. A subject left out means the task's assignee (the agent, or its team for
`reward_to="team"`); targets may name the reference's team roles ("left_team", "all_foes",
...). Both are bound to ids when tasks are assigned, inside `jit` (`engine.bind`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import numbers

import numpy as np
from flax import struct

from nmmo_jax.config import Config
from nmmo_jax.task import predicates as preds

# node operations
NONE, LEAF, CONST, AND, OR, NOT, ADD, SUB, MUL = range(9)
OP_NAMES = {AND: "AND", OR: "OR", NOT: "NOT", ADD: "ADD", SUB: "SUB", MUL: "MUL"}
# who a leaf's subject is
SUBJECT_EXPLICIT, SUBJECT_ASSIGNEE = 0, 1
# target roles (SPEC 14.5), resolved when the task is assigned
TARGET_ROLES = {
    None: 0,  # an explicit group (or none)
    "left_team": 1,
    "left_team_leader": 2,
    "right_team": 3,
    "right_team_leader": 4,
    "my_team_leader": 5,
    "all_foes": 6,
    "all_foe_leaders": 7,
}
# task classes (SPEC 14.4)
TASK_KINDS = {"Task": 0, "OngoingTask": 1, "HoldDurationTask": 2}
REWARD_TO = {"agent": 0, "team": 1}
N_ARGS = 6  # the most numeric parameters of a built-in (SeizeTile: 5)


class Group:
    """Player ids, sorted and de-duplicated (the reference's Group, SPEC 14.1)."""

    def __init__(self, agents):
        if isinstance(agents, numbers.Integral):
            agents = [agents]
        self.agents = tuple(sorted({int(a) for a in agents}))
        self.raw = tuple(int(a) for a in agents)
        if not self.agents:
            raise ValueError("Group: needs at least one agent id")

    def __len__(self):
        return len(self.agents)

    def __iter__(self):
        return iter(self.agents)

    def union(self, other: Group) -> Group:
        return Group(self.agents + other.agents)

    def __eq__(self, other):
        return isinstance(other, Group) and self.agents == other.agents

    def __hash__(self):
        return hash(self.agents)

    def __repr__(self):
        return f"Group({list(self.agents)})"


def _group(value) -> Group | None:
    if value is None or isinstance(value, Group):
        return value
    return Group(value)


class Expr:
    """A predicate expression; the reference's operators combine expressions and numbers."""

    def __and__(self, other):
        return Combination(AND, (self, _operand(other)))

    def __or__(self, other):
        return Combination(OR, (self, _operand(other)))

    def __invert__(self):
        return Combination(NOT, (self,))

    def __add__(self, other):
        return Combination(ADD, (self, _operand(other)))

    def __sub__(self, other):
        return Combination(SUB, (self, _operand(other)))

    def __mul__(self, other):
        return Combination(MUL, (self, _operand(other)))

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        # the reference's quirk (SPEC 14.3): `number - predicate` evaluates `predicate - number`
        return Combination(SUB, (self, _operand(other)))

    def __rand__(self, other):
        raise TypeError("a number cannot be the left operand of & (as in the reference)")

    __ror__ = __rand__


def _operand(value):
    if isinstance(value, Expr):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"cannot combine a predicate with {value!r}")


@dataclasses.dataclass(eq=False)
class Predicate(Expr):
    """A registered predicate applied to a subject (None = the assignee) with its arguments."""

    name: str
    subject: Group | None
    args: dict
    target: Group | str | None = None

    @property
    def definition(self) -> preds.PredicateDef:
        return preds.REGISTRY[self.name]

    def subjects(self) -> tuple:
        return () if self.subject is None else self.subject.agents

    def __str__(self):
        subject = "Any" if self.subject is None else str(self.subject.agents)
        parts = [self.name, subject]
        d = self.definition
        names = (d.target,) if d.target else ()
        for key in names + d.params + d.extra:
            value = self.target if key == d.target else self.args.get(key)
            if key == d.target and value is None and key not in d.params:
                continue  # no target given (StayAlive, AllDead of their subject)
            if isinstance(value, Group):
                value = value.agents
            parts.append(f"{key}:{getattr(value, '__name__', value)}")
        return ("(" + "_".join(str(p) for p in parts) + ")").replace(" ", "")


@dataclasses.dataclass(eq=False)
class Combination(Expr):
    op: int
    operands: tuple

    def subjects(self) -> tuple:
        ids = set()
        for operand in self.operands:
            if isinstance(operand, Expr):
                ids.update(operand.subjects())
        return tuple(sorted(ids))

    def __str__(self):
        return f"({OP_NAMES[self.op]}_" + "_".join(str(o) for o in self.operands) + ")"


class _Builders:
    """`P.<Name>(subject, *args, **kwargs)`: a registered predicate as an expression, with the
    reference's positional order (subject first; it may be left out or None)."""

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        preds.predicate_id(name)  # raises for an unknown name

        def build(*args, **kwargs):
            return make(name, *args, **kwargs)

        build.__name__ = name
        return build

    def __dir__(self):
        return list(preds.REGISTRY)


P = _Builders()


def make(name: str, *args, **kwargs) -> Predicate:
    """The predicate `name` with its subject and arguments in the reference's order, or by
    keyword. The subject, when given positionally, is a `Group` (or None: the assignee); by
    keyword (`subject=`) it may also be an id or a list of ids. Missing arguments take their
    defaults."""
    d = preds.REGISTRY[name]
    subject = None
    if args and (args[0] is None or isinstance(args[0], Group)):
        subject, args = args[0], args[1:]
    subject = _group(kwargs.pop("subject", subject))
    order = ((d.target,) if d.target else ()) + d.params + d.extra
    if len(args) > len(order):
        raise ValueError(f"{name}: takes {len(order)} arguments {order} (got {len(args)})")
    values = dict(zip(order, args, strict=False))
    for key, value in kwargs.items():
        if key not in order:
            raise ValueError(f"{name}: unknown argument {key!r} (arguments: {order})")
        values[key] = value
    defaults = dict(zip(d.params[len(d.params) - len(d.defaults) :], d.defaults, strict=True))
    for key in d.params:
        if key not in values:
            if key not in defaults:
                raise ValueError(f"{name}: missing argument {key!r}")
            values[key] = defaults[key]
    target = values.pop(d.target, None) if d.target else None
    if target is not None and not isinstance(target, str):
        target = _group(target)
    if isinstance(target, str) and target not in TARGET_ROLES:
        raise ValueError(
            f"{name}: unknown target role {target!r} (one of {list(TARGET_ROLES)[1:]})"
        )
    for key in d.params:
        d.convert(key, values[key])  # validates now, with the predicate's name
    return Predicate(name, subject, values, target)


@dataclasses.dataclass(eq=False)
class TaskSpec:
    """A task (SPEC 14.4-14.5): an expression, the task class (`"Task"`, `"OngoingTask"`,
    `"HoldDurationTask"` with `hold_duration`), who is rewarded, a reward multiplier, a
    sampling weight in a curriculum, and an optional embedding (else a hash of the row)."""

    expr: Expr
    task_cls: str = "Task"
    reward_to: str = "agent"
    reward_multiplier: float = 1.0
    hold_duration: int = 0
    sampling_weight: float = 1.0
    embedding: np.ndarray | None = None
    tags: tuple = ()

    def __post_init__(self):
        if self.task_cls not in TASK_KINDS:
            raise ValueError(f"task_cls must be one of {list(TASK_KINDS)} (got {self.task_cls!r})")
        if self.reward_to not in REWARD_TO:
            raise ValueError(f"reward_to must be 'agent' or 'team' (got {self.reward_to!r})")
        if self.task_cls == "HoldDurationTask" and self.hold_duration < 1:
            raise ValueError("hold_duration must be >= 1 for a HoldDurationTask")
        if not self.sampling_weight >= 0:
            raise ValueError(f"sampling_weight must be >= 0 (got {self.sampling_weight})")

    @property
    def name(self) -> str:
        """`(<TaskCls>_eval_fn:<expression>_reward_to:<x>)`, with the hold duration and the
        multiplier when they are set (the reference's spec names leave them out)."""
        extra = f"_hold_duration:{self.hold_duration}" if self.hold_duration else ""
        if self.reward_multiplier != 1.0:
            extra += f"_reward_multiplier:{self.reward_multiplier}"
        return f"({self.task_cls}_eval_fn:{self.expr}_reward_to:{self.reward_to}{extra})"


@struct.dataclass
class TaskTable:
    """Encoded tasks, numpy or jnp arrays with a leading task axis [A] (L = task_nodes, G =
    task_group_size, N = player_n, D = task_embed_dim). Fields are listed in `FIELDS`."""

    kind: np.ndarray  # int32 [A]        TASK_KINDS
    reward_to: np.ndarray  # int32 [A]   REWARD_TO
    multiplier: np.ndarray  # float32 [A]
    hold: np.ndarray  # int32 [A]        hold duration (HoldDurationTask)
    weight: np.ndarray  # float32 [A]    sampling weight
    op: np.ndarray  # int32 [A, L]       node operation (NONE, LEAF, CONST, AND, ...)
    pred: np.ndarray  # int32 [A, L]     predicate id of a leaf
    args: np.ndarray  # float32 [A, L, N_ARGS]
    left: np.ndarray  # int32 [A, L]     operand nodes (earlier indices)
    right: np.ndarray  # int32 [A, L]
    const: np.ndarray  # float32 [A, L]  a number node's value
    subject_kind: np.ndarray  # int32 [A, L]   SUBJECT_EXPLICIT or SUBJECT_ASSIGNEE
    subject: np.ndarray  # int32 [A, L, G]    member ids (0 = empty place)
    target_kind: np.ndarray  # int32 [A, L]    TARGET_ROLES
    target: np.ndarray  # bool [A, L, N]
    embedding: np.ndarray  # float16 [A, D]

    def __len__(self):
        return len(self.kind)


FIELDS = tuple(f.name for f in dataclasses.fields(TaskTable))


def _flatten(expr, nodes: list) -> int:
    """Appends the nodes of `expr` (operands first) and returns its root index."""
    if isinstance(expr, float):
        nodes.append(("const", expr))
    elif isinstance(expr, Predicate):
        nodes.append(("leaf", expr))
    else:
        operands = [_flatten(o, nodes) for o in expr.operands]
        nodes.append(("op", expr.op, operands))
    return len(nodes) - 1


def encode(specs, cfg: Config) -> TaskTable:
    """The specs as one TaskTable (numpy); raises ValueError naming the spec and the field
    that does not fit `cfg` (too many nodes, a subject larger than task_group_size, ids
    outside 1..player_n)."""
    specs = list(specs)
    a, n_nodes, g, n = len(specs), cfg.task_nodes, cfg.task_group_size, cfg.player_n
    t = {
        "kind": np.zeros(a, np.int32),
        "reward_to": np.zeros(a, np.int32),
        "multiplier": np.ones(a, np.float32),
        "hold": np.zeros(a, np.int32),
        "weight": np.ones(a, np.float32),
        "op": np.zeros((a, n_nodes), np.int32),
        "pred": np.zeros((a, n_nodes), np.int32),
        "args": np.zeros((a, n_nodes, N_ARGS), np.float32),
        "left": np.zeros((a, n_nodes), np.int32),
        "right": np.zeros((a, n_nodes), np.int32),
        "const": np.zeros((a, n_nodes), np.float32),
        "subject_kind": np.zeros((a, n_nodes), np.int32),
        "subject": np.zeros((a, n_nodes, g), np.int32),
        "target_kind": np.zeros((a, n_nodes), np.int32),
        "target": np.zeros((a, n_nodes, n), bool),
        "embedding": np.zeros((a, cfg.task_embed_dim), np.float16),
    }
    for i, spec in enumerate(specs):
        where = f"task {i} {spec.name}"
        if not isinstance(spec, TaskSpec):
            raise ValueError(f"task {i}: expected a TaskSpec (got {type(spec).__name__})")
        nodes: list = []
        _flatten(spec.expr, nodes)
        if len(nodes) > n_nodes:
            raise ValueError(
                f"{where}: has {len(nodes)} nodes, more than task_nodes={n_nodes} (raise it in "
                f"the Config)"
            )
        offset = n_nodes - len(nodes)  # right-aligned: the root is always the last node
        t["kind"][i] = TASK_KINDS[spec.task_cls]
        t["reward_to"][i] = REWARD_TO[spec.reward_to]
        t["multiplier"][i] = spec.reward_multiplier
        t["hold"][i] = spec.hold_duration
        t["weight"][i] = spec.sampling_weight
        for j, node in enumerate(nodes):
            k = offset + j
            if node[0] == "const":
                t["op"][i, k], t["const"][i, k] = CONST, node[1]
            elif node[0] == "op":
                _, op, operands = node
                t["op"][i, k] = op
                t["left"][i, k] = offset + operands[0]
                t["right"][i, k] = offset + operands[-1]
            else:
                _encode_leaf(t, i, k, node[1], cfg, where)
        if spec.embedding is not None:
            embedding = np.asarray(spec.embedding, np.float16).reshape(-1)
            if embedding.shape[0] != cfg.task_embed_dim:
                raise ValueError(
                    f"{where}: embedding has {embedding.shape[0]} values, task_embed_dim is "
                    f"{cfg.task_embed_dim}"
                )
            t["embedding"][i] = embedding
        else:
            t["embedding"][i] = hash_embedding(
                {f: t[f][i] for f in t if f not in ("embedding", "weight")}, cfg.task_embed_dim
            )
    return TaskTable(**t)


def _ids(group: Group, cfg: Config, where: str, field: str) -> np.ndarray:
    ids = np.asarray(group.agents, np.int64)
    if (ids < 1).any() or (ids > cfg.player_n).any():
        raise ValueError(f"{where}: {field} ids must be in 1..player_n={cfg.player_n} (got {ids})")
    return ids


def _encode_leaf(t: dict, i: int, k: int, p: Predicate, cfg: Config, where: str) -> None:
    d = p.definition
    t["op"][i, k] = LEAF
    t["pred"][i, k] = preds.predicate_id(p.name)
    for j, key in enumerate(d.params):
        t["args"][i, k, j] = d.convert(key, p.args[key])
    if p.subject is None:
        t["subject_kind"][i, k] = SUBJECT_ASSIGNEE
    else:
        ids = _ids(p.subject, cfg, where, "subject")
        if len(ids) > cfg.task_group_size:
            raise ValueError(
                f"{where}: subject has {len(ids)} members, more than task_group_size="
                f"{cfg.task_group_size}"
            )
        t["subject"][i, k, : len(ids)] = ids
    if isinstance(p.target, str):
        t["target_kind"][i, k] = TARGET_ROLES[p.target]
    elif p.target is not None:
        t["target"][i, k, _ids(p.target, cfg, where, "target") - 1] = True


def hash_embedding(row: dict, dim: int) -> np.ndarray:
    """A deterministic pseudo-embedding of an encoded row: SHA-256 in counter mode, as values
    in [-1, 1) (the reference's `get_hash_embedding` hashes the predicate's source instead)."""
    digest = hashlib.sha256()
    for key in sorted(row):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(row[key]).tobytes())
    seed = digest.digest()
    out = bytearray()
    counter = 0
    while len(out) < 2 * dim:
        out.extend(hashlib.sha256(seed + counter.to_bytes(4, "little")).digest())
        counter += 1
    values = np.frombuffer(bytes(out[: 2 * dim]), np.uint16).astype(np.float32)
    return (values / 32768.0 - 1.0).astype(np.float16)


def check_table(table: TaskTable, cfg: Config) -> TaskTable:
    """`table` as numpy arrays, validated against `cfg`: shapes, node programs (known
    operations, operands before their node, registered predicate ids, ids in 1..player_n),
    task kinds and weights. Raises ValueError naming the row and the field."""
    t = {f: np.asarray(getattr(table, f)) for f in FIELDS}
    a = len(t["kind"])
    shapes = {
        "op": (a, cfg.task_nodes),
        "args": (a, cfg.task_nodes, N_ARGS),
        "subject": (a, cfg.task_nodes, cfg.task_group_size),
        "target": (a, cfg.task_nodes, cfg.player_n),
        "embedding": (a, cfg.task_embed_dim),
    }
    for field in FIELDS:
        want = shapes.get(field, (a, cfg.task_nodes) if t[field].ndim == 2 else (a,))
        if t[field].shape != want:
            raise ValueError(f"task table field {field!r} has shape {t[field].shape}, want {want}")
    if a == 0:
        raise ValueError("task table has no rows")

    def bad(field, rows, what):
        i = int(np.flatnonzero(rows)[0])
        raise ValueError(f"task row {i}: field {field!r} {what}")

    node = np.arange(cfg.task_nodes)
    op = t["op"]
    checks = [
        ("op", ((op < NONE) | (op > MUL)).any(1), f"must be in [{NONE}, {MUL}]"),
        ("op", op[:, -1] == NONE, "the last node (the root) must not be empty"),
        (
            "pred",
            ((op == LEAF) & ((t["pred"] < 0) | (t["pred"] >= len(preds.REGISTRY)))).any(1),
            f"must be a registered predicate id in [0, {len(preds.REGISTRY)})",
        ),
        (
            "left",
            (op >= AND) & ((t["left"] < 0) | (t["left"] >= node)),
            "must name an earlier node",
        ),
        (
            "right",
            (op >= AND) & ((t["right"] < 0) | (t["right"] >= node)),
            "must name an earlier node",
        ),
        (
            "subject",
            ((t["subject"] < 0) | (t["subject"] > cfg.player_n)).any((1, 2)),
            f"ids must be in 0..player_n={cfg.player_n}",
        ),
        (
            "subject_kind",
            ((t["subject_kind"] != SUBJECT_EXPLICIT) & (t["subject_kind"] != SUBJECT_ASSIGNEE)).any(
                1
            ),
            "must be 0 or 1",
        ),
        (
            "target_kind",
            ((t["target_kind"] < 0) | (t["target_kind"] >= len(TARGET_ROLES))).any(1),
            f"must be in [0, {len(TARGET_ROLES)})",
        ),
        (
            "kind",
            (t["kind"] < 0) | (t["kind"] >= len(TASK_KINDS)),
            f"must be in [0, {len(TASK_KINDS)})",
        ),
        ("reward_to", (t["reward_to"] < 0) | (t["reward_to"] > 1), "must be 0 (agent) or 1 (team)"),
        (
            "hold",
            (t["kind"] == TASK_KINDS["HoldDurationTask"]) & (t["hold"] < 1),
            "must be >= 1 for a HoldDurationTask",
        ),
        ("weight", ~(t["weight"] >= 0), "must be >= 0"),
        ("args", ~np.isfinite(t["args"]).all((1, 2)), "must be finite"),
        ("multiplier", ~np.isfinite(t["multiplier"]), "must be finite"),
    ]
    for field, rows, what in checks:
        rows = np.asarray(rows)
        if rows.ndim > 1:
            rows = rows.any(axis=tuple(range(1, rows.ndim)))
        if rows.any():
            bad(field, rows, what)
    if not t["weight"].sum() > 0:
        raise ValueError("task table field 'weight': the sampling weights must not all be 0")
    return TaskTable(**t)


def table_fingerprint(table: TaskTable) -> str:
    """A digest of a table's contents (an Env's identity for jit caching)."""
    digest = hashlib.sha256()
    for field in FIELDS:
        digest.update(np.ascontiguousarray(getattr(table, field)).tobytes())
    return digest.hexdigest()
