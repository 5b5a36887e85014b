"""The dbt project (repository root) as dagster-dbt sees it.

The manifest is prepared at setup, not at import: `make setup` runs
`dagster-dbt project prepare-and-package --file orchestration/defs/gold/project.py`
(a `dbt parse`). Importing this module reads no environment and runs nothing, not even
under `dagster dev` (no `prepare_if_dev`: it would run dbt from whatever `PATH` says,
and a model change needs `make setup` again anyway).
"""

from pathlib import Path

from dagster_dbt import DbtProject

REPO_ROOT = Path(__file__).resolve().parents[3]

dbt_project = DbtProject(project_dir=REPO_ROOT, profiles_dir=REPO_ROOT, target="nightly")
