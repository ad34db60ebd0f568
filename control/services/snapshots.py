"""Plain-data pictures of stored objects for the audit log's before/after (never any secret)."""

from typing import Any

from control.domain.permissions import Permission
from control.store.models import ApiKey, Company, Department, Room, User


def company(c: Company) -> dict[str, Any]:
    return {"name": c.name, "privacy_notice": c.privacy_notice}


def user(u: User, permissions: frozenset[Permission]) -> dict[str, Any]:
    return {"email": u.email, "name": u.name, "pending": u.pending, "permissions": sorted(p.value for p in permissions)}


def api_key(k: ApiKey) -> dict[str, Any]:
    return {"name": k.name, "user_id": k.user_id, "revoked": k.revoked_at is not None}


def department(d: Department) -> dict[str, Any]:
    return {"name": d.name, "parent_id": d.parent_id}


def room(r: Room) -> dict[str, Any]:
    return {
        "name": r.name,
        "department_id": r.department_id,
        "hidden": r.hidden,
        "waiting_room": r.waiting_room,
        "chat": r.chat,
        "screen_share": r.screen_share,
        "participants_may_start": r.participants_may_start,
        "participants_add_materials": r.participants_add_materials,
        "max_participants": r.max_participants,
    }
