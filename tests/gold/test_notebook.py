"""The member 360 notebook runs end to end on a built warehouse (a real kernel)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from bakehouse import warehouse
from tests.gold.conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "member_360_explorer.ipynb"

pytestmark = pytest.mark.slow


def test_the_committed_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_the_notebook_runs_on_the_warehouse(gold_home, monkeypatch, tmp_path) -> None:
    warehouse.refresh_views(gold_home)
    monkeypatch.setenv("BAKEHOUSE_HOME", str(gold_home.home))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "\n".join(
        str(output.get("data", {}).get("text/plain", output.get("text", "")))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "as of 2026-11-04" in outputs
    assert "registered_not_bought" in outputs  # the tag sizes table
    assert "douyin" in outputs  # the channel overlap table
    assert not any(o.output_type == "error" for c in notebook.cells for o in c.get("outputs", []))
