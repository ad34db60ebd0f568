"""What callers hand the registry, checked before it is queued: typed operations, and tables that
a worker can build from nothing (creates and connects only)."""

from __future__ import annotations

from collections.abc import Sequence

from contract.ops import SYNC_TYPES, Operation
from contract.table import Table, TableError
from control.engines.errors import InvalidOps


def check_table(ops: Sequence[Operation]) -> None:
    """InvalidOps unless `ops` build a table on an empty worker (creates and connects only)."""
    check_types(ops)
    if not all(isinstance(op, SYNC_TYPES) for op in ops):
        raise InvalidOps("a table is made of creates and connects only")
    try:
        Table.from_ops(ops)
    except TableError as error:
        raise InvalidOps(error.message) from None


def check_types(ops: Sequence[object]) -> None:
    for op in ops:
        if not isinstance(op, Operation):
            raise InvalidOps(f"not a table operation: {op!r}"[:200])
