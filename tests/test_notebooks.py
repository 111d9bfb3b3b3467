"""Every notebook in notebooks/ runs top to bottom (code cells executed in order, one namespace).

Executed without a Jupyter kernel so the tests need no extra dependency.
"""

import json
import pathlib

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, capsys):
    cells = json.loads(path.read_text())["cells"]
    code = [("".join(c["source"]), i) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    scope = {"__name__": "__main__"}
    for source, index in code:
        exec(compile(source, f"{path.name}[cell {index}]", "exec"), scope)  # noqa: S102
    assert capsys.readouterr().out  # the tour prints what it shows


def test_there_is_a_tour():
    assert any(p.name == "tour.ipynb" for p in NOTEBOOKS)
