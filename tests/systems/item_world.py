"""Items in the tiny worlds of the system tests: hand them out, read them back."""

import numpy as np

from nmmo_jax import items as it
from nmmo_jax import scenario


def give(state, cfg, pid, *specs):
    """Gives player `pid` items (type, level) or (type, level, dict of scenario.give options), in
    order (so their ids follow the order given, SPEC 7.2)."""
    for spec in specs:
        item_type, level, *options = spec
        state = scenario.give(state, cfg, pid, item_type, level, **(options[0] if options else {}))
    return state


def inventory(state, pid, columns=it.ITEM_COLUMNS):
    """Player `pid`'s occupied slots in item-id order (its Inventory rows, SPEC 11), as dicts of
    `columns` (the ItemState columns by default)."""
    slots = np.asarray(state.inventory.slots[pid - 1])
    rows = [
        {name: int(slot[it.COL[name]]) for name in columns}
        for slot in slots
        if slot[it.COL["type_id"]] > 0
    ]
    return sorted(rows, key=lambda r: r["id"])
