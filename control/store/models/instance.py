"""Instance-wide settings shared by every control-plane process."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import Base


class InstanceSetting(Base):
    """Instance-wide values shared by every control-plane process (e.g. the token signing key)."""

    __tablename__ = "instance_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
