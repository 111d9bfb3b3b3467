"""Tasks as `jnp` predicates over the game state (SPEC 14): write, combine, encode, evaluate.

    from nmmo_jax.task import P, Group, TaskSpec
    env = nj.Env(cfg, tasks=[TaskSpec(P.HarvestItem(item="Ration", level=1, quantity=3))])

`predicates` holds the registry and the reference's built-ins (register your own with
`@predicate(...)`), `spec` the Python side (expressions, TaskSpec, the encoded TaskTable),
`engine` the compiled side (assignment and evaluation inside the step), `query` the subject
view a predicate reads, `features` what is gathered from the state once per step.
"""

from nmmo_jax.task.engine import TaskState
from nmmo_jax.task.predicates import REGISTRY, predicate
from nmmo_jax.task.query import Args, Query
from nmmo_jax.task.spec import Group, P, TaskSpec, TaskTable, encode, make

__all__ = [
    "REGISTRY",
    "Args",
    "Group",
    "P",
    "Query",
    "TaskSpec",
    "TaskState",
    "TaskTable",
    "encode",
    "make",
    "predicate",
]
