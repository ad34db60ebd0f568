"""What the engine's table operations raise."""


class EngineError(Exception):
    """A table operation the engine refused."""


class ClosedError(EngineError):
    """The object (or its engine) is closed."""
