"""nmmo-jax: Neural MMO 2 as pure JAX functions (reset, step, observe) that jit and vmap."""

from nmmo_jax import material
from nmmo_jax.compile import compiler_options, jit
from nmmo_jax.config import Config
from nmmo_jax.env import AutoReset, Env, VmapAutoReset
from nmmo_jax.observe import ActionMask, Observation, reference_observation
from nmmo_jax.state import ENTITY_COLUMNS, EntityTable, WorldState
from nmmo_jax.step import ACTION_HEADS

__version__ = "0.1.0"

__all__ = [
    "ACTION_HEADS",
    "ENTITY_COLUMNS",
    "ActionMask",
    "AutoReset",
    "Config",
    "EntityTable",
    "Env",
    "Observation",
    "VmapAutoReset",
    "WorldState",
    "compiler_options",
    "jit",
    "material",
    "reference_observation",
]
