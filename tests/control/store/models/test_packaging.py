"""The models package: one module per concept over a shared base, no imports between model modules,
and every table in `Base.metadata` once the package is imported."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import control.store.models as models
from control.store.models import Base

MODULES = sorted(m.name for m in pkgutil.iter_modules(models.__path__))


@pytest.mark.parametrize("module", MODULES)
def test_each_model_module_imports_first_in_a_fresh_interpreter(module):
    subprocess.run([sys.executable, "-c", f"import control.store.models.{module}"], check=True)


@pytest.mark.parametrize("module", [m for m in MODULES if m != "base"])
def test_a_model_module_imports_only_the_base(module):
    tree = ast.parse(Path(models.__path__[0], f"{module}.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {m for m in imported if m.startswith("control.")} <= {"control.store.models.base"}


def test_the_package_exports_every_table_of_the_metadata():
    exported = {getattr(models, name).__tablename__ for name in models.__all__ if name != "Base"}
    assert exported == set(Base.metadata.tables)
