"""The department tree: /departments/…"""

from pydantic import BaseModel

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name
from control.services import rooms
from control.store.models import Department

endpoints = EndpointGroup(tag="departments")


class DepartmentOut(BaseModel):
    id: str
    name: str
    parent_id: str | None


class DepartmentListOut(BaseModel):
    items: list[DepartmentOut]


class DepartmentIn(Input):
    name: Name
    parent_id: Id | None = None


class DepartmentUpdateIn(Input):
    name: Name | None = None
    parent_id: Id | None = None
    """Given as null: move to the top level."""


class DepartmentPath(Input):
    department_id: Id


def out(d: Department) -> DepartmentOut:
    return DepartmentOut(id=d.id, name=d.name, parent_id=d.parent_id)


@endpoints.get("/departments", response=DepartmentListOut)
async def list_departments(call: Call) -> DepartmentListOut:
    """The whole department tree, as a flat list with parent ids."""
    return DepartmentListOut(items=[out(d) for d in await rooms.list_departments(call.ctx, call.principal)])


@endpoints.post("/departments", body=DepartmentIn, response=DepartmentOut, status=201, errors=(403, 404))
async def create_department(call: Call) -> DepartmentOut:
    """Create a department (Administrate rooms)."""
    body: DepartmentIn = call.body
    return out(await rooms.create_department(call.ctx, call.principal, name=body.name, parent_id=body.parent_id))


@endpoints.patch("/departments/{department_id}", path_model=DepartmentPath, body=DepartmentUpdateIn,
                 response=DepartmentOut, errors=(403, 404, 409))
async def update_department(call: Call) -> DepartmentOut:
    """Rename or move a department (Administrate rooms)."""
    changes = call.body.model_dump(exclude_unset=True)
    return out(await rooms.update_department(call.ctx, call.principal, call.path.department_id, changes))


@endpoints.delete("/departments/{department_id}", path_model=DepartmentPath, status=204, errors=(403, 404, 409))
async def delete_department(call: Call) -> None:
    """Delete an empty department (Administrate rooms)."""
    await rooms.delete_department(call.ctx, call.principal, call.path.department_id)
