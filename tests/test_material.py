"""Material table facts of SPEC 2.1."""

import jax.numpy as jnp
import numpy as np
import pytest

from nmmo_jax import material as mat


@pytest.mark.parametrize("dtype", [jnp.int8, jnp.int16, jnp.int32, np.int8, np.int64])
def test_passability_for_every_integer_dtype(dtype):
    # SPEC 2.1: impassable = Void 0, Water 1, Stone 5, Ocean 14, Fish 15.
    expected = [0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    ids = (jnp.arange if dtype in (jnp.int8, jnp.int16, jnp.int32) else np.arange)(16, dtype=dtype)
    np.testing.assert_array_equal(np.asarray(mat.is_passable(ids)), expected)


def test_depleted_material_is_one_below():
    # SPEC 2.1: Foilage->Scrub, Ore->Slag, Tree->Stump, Crystal->Fragment, Herb->Weeds, Fish->Ocean
    assert mat.DEPLETED_OF == {4: 3, 7: 6, 9: 8, 11: 10, 13: 12, 15: 14}
