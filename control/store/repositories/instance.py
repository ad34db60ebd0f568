"""Instance-wide settings shared by all control-plane processes."""

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import InstanceSetting


async def get_or_create(session: AsyncSession, key: str, make: Callable[[], str]) -> str:
    """The stored value of `key`, storing `make()` first when there is none."""
    row = await session.get(InstanceSetting, key)
    if row is None:
        row = InstanceSetting(key=key, value=make())
        session.add(row)
        await session.flush()
    return row.value
