"""A company's departments (a tree) that rooms belong to."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, new_id


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, ForeignKey("departments.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
