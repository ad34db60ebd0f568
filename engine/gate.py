"""The lifecycle shared by the table's objects (Router, Transport, Producer, Consumer), and the gate
shared by Producer and Consumer.

An object is open until closed. Closing it closes what hangs from it first (a router its transports,
a transport its consumers and producers, a producer its consumers), and is one versioned table
operation. A gate is a forwarding switch that only the control plane sets; `paused` changes only
after the core accepted the change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from engine.errors import ClosedError

if TYPE_CHECKING:
    from engine.engine import Engine


class Owner(Protocol):
    """What an object hangs from (its engine, router or transport): open or not."""

    def _check(self) -> None: ...


class Closable:
    """An object of the forwarding table with a close lifecycle."""

    #: the object's name in ClosedError messages ("transport 3 closed")
    noun: ClassVar[str]

    def __init__(self, engine: Engine, object_id: int, owner: Owner) -> None:
        self.engine = engine
        self.id = object_id
        self.closed = False
        self._owner = owner

    def close(self) -> None:
        """Closes this object and what hangs from it, in one table operation; again, does nothing."""
        if not self.closed:
            self._close()
            self.engine._applied()

    def _close(self) -> None:
        # the cascade: children first, then this object leaves the core (which the engine's own
        # close has already freed) and its owner
        for child in self._children():
            child._close()
        if not self.engine.closed:
            self._remove()
        self._forget()
        self.closed = True

    def _children(self) -> list[Closable]:
        """What closes with this object, in closing order."""
        return []

    def _remove(self) -> None:
        """Removes this object from the core."""

    def _forget(self) -> None:
        """Removes this object from its owner (and gives back what it reserved)."""
        raise NotImplementedError

    def _check(self) -> None:
        if self.closed:
            raise ClosedError(f"{self.noun} {self.id} closed")
        self._owner._check()


class Gated(Closable):
    """A Closable with a gate: while paused, the engine forwards nothing through it (and counts)."""

    def __init__(self, engine: Engine, object_id: int, owner: Owner) -> None:
        super().__init__(engine, object_id, owner)
        self.paused = False

    def pause(self) -> None:
        """Closes the gate."""
        self._set_paused(True)

    def resume(self) -> None:
        """Opens the gate; for video, asks the publisher for a keyframe."""
        self._set_paused(False)

    def _set_paused(self, paused: bool) -> None:
        self._check()
        self._set_gate(paused)
        self.paused = paused
        self.engine._applied()

    def _set_gate(self, paused: bool) -> None:
        """Sets the gate in the core; raises when the core refuses."""
        raise NotImplementedError
