"""Files shared in a meeting's chat and conference materials of a room (migration 0008).

The bytes live in the file storage (`control.files.storage`) under `storage_key`; the row is what
lists it, decides who reads it (`control.domain.files.may_read`) and counts against the company's
storage quota. Deleting the room deletes its rows (the service deletes the bytes first).
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, PARTICIPANT, PERSON, Base, UTCDateTime, new_id, utcnow


class SharedFile(Base):
    __tablename__ = "shared_files"
    __table_args__ = (
        Index("ix_shared_files_meeting_id", "meeting_id", "created_at"),
        Index("ix_shared_files_room_id", "room_id", "purpose"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"))
    meeting_id: Mapped[str | None] = mapped_column(ID, ForeignKey("meetings.id", ondelete="SET NULL"), nullable=True)
    """The meeting a chat file was shared in; for a material, the meeting it was attached during (if any)."""
    purpose: Mapped[str] = mapped_column(String(16))
    """control.domain.files.Purpose"""
    name: Mapped[str] = mapped_column(String(200))
    """Sanitised (control.domain.files.sanitize_name)."""
    content_type: Mapped[str] = mapped_column(String(100))
    """Detected from the content (control.domain.files.detect_type)."""
    size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(200))
    uploader_person: Mapped[str] = mapped_column(PERSON)
    uploader_participant: Mapped[str | None] = mapped_column(PARTICIPANT, nullable=True)
    uploader_name: Mapped[str] = mapped_column(String(200))
    recipient_person: Mapped[str | None] = mapped_column(PERSON, nullable=True)
    """A chat file's one recipient; None: to everyone (and for materials)."""
    recipient_participant: Mapped[str | None] = mapped_column(PARTICIPANT, nullable=True)
    recipient_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
