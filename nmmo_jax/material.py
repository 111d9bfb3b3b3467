"""Tile materials: ids, passability and depletion (SPEC 2.1)."""

from __future__ import annotations

VOID = 0
WATER = 1
GRASS = 2
SCRUB = 3
FOILAGE = 4
STONE = 5
SLAG = 6
ORE = 7
STUMP = 8
TREE = 9
FRAGMENT = 10
CRYSTAL = 11
WEEDS = 12
HERB = 13
OCEAN = 14
FISH = 15

N_MATERIALS = 16

NAMES = (
    "Void",
    "Water",
    "Grass",
    "Scrub",
    "Foilage",
    "Stone",
    "Slag",
    "Ore",
    "Stump",
    "Tree",
    "Fragment",
    "Crystal",
    "Weeds",
    "Herb",
    "Ocean",
    "Fish",
)

IMPASSABLE = (VOID, WATER, STONE, OCEAN, FISH)

# Bit m is set when material m can be walked on. Testing `(PASSABLE_BITS >> m) & 1` is plain
# arithmetic, which XLA CPU runs much faster than a gather from a 16-entry table.
PASSABLE_BITS = sum(1 << m for m in range(N_MATERIALS) if m not in IMPASSABLE)

# Every depletable material depletes to the id just below it (Foilage 4 -> Scrub 3, Ore 7 -> Slag 6,
# Tree 9 -> Stump 8, Crystal 11 -> Fragment 10, Herb 13 -> Weeds 12, Fish 15 -> Ocean 14), so the
# material shown on a tile is `base - depleted` (SPEC 2.1). Water is harvested but never depletes.
DEPLETABLE = (FOILAGE, ORE, TREE, CRYSTAL, HERB, FISH)
DEPLETED_OF = {FOILAGE: SCRUB, ORE: SLAG, TREE: STUMP, CRYSTAL: FRAGMENT, HERB: WEEDS, FISH: OCEAN}
assert all(DEPLETED_OF[m] == m - 1 for m in DEPLETABLE)


def is_passable(material):
    """1 where `material` (int array or int) can be walked on. The shift is done in int32: in
    int8 the 16-bit constant would wrap and Ocean/Fish would read as passable."""
    if hasattr(material, "astype"):
        material = material.astype("int32")
    return (PASSABLE_BITS >> material) & 1


# The Config field that holds each depletable material's regrowth probability (SPEC 1.3).
RESPAWN_FIELD = {
    FOILAGE: "resource_foilage_respawn",
    ORE: "profession_ore_respawn",
    TREE: "profession_tree_respawn",
    CRYSTAL: "profession_crystal_respawn",
    HERB: "profession_herb_respawn",
    FISH: "profession_fish_respawn",
}
PROFESSION_RESPAWN_FIELDS = tuple(f for m, f in RESPAWN_FIELD.items() if m != FOILAGE)


def respawn_probability(cfg) -> dict[int, float]:
    """Per-tick regrowth probability of each depletable material (SPEC 1.3, 2.1)."""
    return {material: getattr(cfg, field) for material, field in RESPAWN_FIELD.items()}
