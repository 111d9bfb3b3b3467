"""Task suites as data: TaskSpecs to and from JSON, and the loader of `tasks/` (issue 15).

A suite file is a JSON object `{"name": ..., "tasks": [row, ...]}`; a row is

    {"expr": EXPR, "task_cls": "Task", "reward_to": "agent", "reward_multiplier": 1.0,
     "hold_duration": 0, "sampling_weight": 1.0, "split": "train", "tags": [...]}

and EXPR is a number, a predicate `{"pred": "HarvestItem", "args": {"item": "Ration", ...},
"subject": null | [ids], "target": null | [ids] | "left_team"}`, or a combination
`{"op": "AND", "operands": [EXPR, EXPR]}` (NOT has one operand). `load` validates every row and
raises a ValueError naming the file, the row and the field.
"""

from __future__ import annotations

import json
import pathlib

from nmmo_jax.task import predicates as preds
from nmmo_jax.task import spec as sp

SUITES_DIR = pathlib.Path(__file__).resolve().parents[2] / "tasks"
SPLITS = ("train", "heldout")
ROW_FIELDS = {
    "expr",
    "task_cls",
    "reward_to",
    "reward_multiplier",
    "hold_duration",
    "sampling_weight",
    "split",
    "tags",
}
OPS = {name: op for op, name in sp.OP_NAMES.items()}


def expr_to_json(expr):
    """The JSON form of an expression (a number, a Predicate or a Combination)."""
    if isinstance(expr, float):
        return expr
    if isinstance(expr, sp.Predicate):
        target = expr.target
        if isinstance(target, sp.Group):
            target = list(target.agents)
        return {
            "pred": expr.name,
            "args": {k: getattr(v, "__name__", v) for k, v in expr.args.items()},
            "subject": None if expr.subject is None else list(expr.subject.agents),
            "target": target,
        }
    return {"op": sp.OP_NAMES[expr.op], "operands": [expr_to_json(o) for o in expr.operands]}


def spec_to_json(spec: sp.TaskSpec, split: str = "train") -> dict:
    return {
        "expr": expr_to_json(spec.expr),
        "task_cls": spec.task_cls,
        "reward_to": spec.reward_to,
        "reward_multiplier": spec.reward_multiplier,
        "hold_duration": spec.hold_duration,
        "sampling_weight": spec.sampling_weight,
        "split": split,
        "tags": list(spec.tags),
    }


def expr_from_json(obj, where: str):
    """An expression from its JSON form; ValueError naming `where` and the field."""
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return float(obj)
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: field 'expr' must be a number or an object (got {obj!r})")
    if "pred" in obj:
        unknown = set(obj) - {"pred", "args", "subject", "target"}
        if unknown:
            raise ValueError(f"{where}: unknown fields {sorted(unknown)} in a predicate")
        name = obj["pred"]
        if name not in preds.REGISTRY:
            raise ValueError(f"{where}: field 'pred': unknown predicate {name!r}")
        args = dict(obj.get("args") or {})
        target = obj.get("target")
        d = preds.REGISTRY[name]
        if d.target and target is not None:
            args[d.target] = target
        subject = obj.get("subject")
        try:
            return sp.make(name, subject=subject, **args)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{where}: field 'args': {error}") from None
    if "op" in obj:
        op = OPS.get(obj["op"])
        if op is None:
            raise ValueError(
                f"{where}: field 'op' must be one of {sorted(OPS)} (got {obj['op']!r})"
            )
        operands = obj.get("operands")
        want = 1 if op == sp.NOT else 2
        if not isinstance(operands, list) or len(operands) != want:
            raise ValueError(f"{where}: field 'operands' of {obj['op']} must list {want}")
        values = [expr_from_json(o, where) for o in operands]
        if not isinstance(values[0], sp.Expr):
            raise ValueError(f"{where}: field 'operands': the first operand must be a predicate")
        return sp.Combination(op, tuple(values))
    raise ValueError(f"{where}: field 'expr' needs 'pred' or 'op' (got keys {sorted(obj)})")


def spec_from_json(row: dict, where: str) -> tuple[sp.TaskSpec, str]:
    """(TaskSpec, split) from a row; ValueError naming `where` and the field."""
    if not isinstance(row, dict):
        raise ValueError(f"{where}: a row must be an object (got {type(row).__name__})")
    unknown = set(row) - ROW_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
    if "expr" not in row:
        raise ValueError(f"{where}: field 'expr' is missing")
    split = row.get("split", "train")
    if split not in SPLITS:
        raise ValueError(f"{where}: field 'split' must be one of {SPLITS} (got {split!r})")
    expr = expr_from_json(row["expr"], where)
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"{where}: field 'expr' must be a predicate or a combination")
    try:
        spec = sp.TaskSpec(
            expr,
            task_cls=row.get("task_cls", "Task"),
            reward_to=row.get("reward_to", "agent"),
            reward_multiplier=float(row.get("reward_multiplier", 1.0)),
            hold_duration=int(row.get("hold_duration", 0)),
            sampling_weight=float(row.get("sampling_weight", 1.0)),
            tags=tuple(row.get("tags", ())),
        )
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}: {error}") from None
    return spec, split


def available() -> list[str]:
    """The suites in `tasks/` by name."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.json"))


def load(name_or_path, split: str | None = None) -> list[sp.TaskSpec]:
    """The TaskSpecs of a suite (a name in `tasks/`, e.g. "foraging", or a path), all of them
    or those of one split ("train" or "heldout"). Every row is validated."""
    path = pathlib.Path(name_or_path)
    if not path.suffix:
        path = SUITES_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise ValueError(f"unknown suite {name_or_path!r} (available: {available()})")
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None (got {split!r})")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    rows = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ValueError(f"{path}: must be an object with a 'tasks' list")
    specs = []
    for i, row in enumerate(rows):
        spec, row_split = spec_from_json(row, f"{path.name} row {i}")
        if split is None or row_split == split:
            specs.append(spec)
    return specs


def save(path, name: str, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"name": name, "tasks": rows}, f, indent=None, separators=(",", ":"))
        f.write("\n")
