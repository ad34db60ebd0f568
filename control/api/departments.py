"""The department tree: /departments/…"""

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name, example
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
    model_config = example(name="Engineering", parent_id="5f0c6a3e9d2b4c71a8e4f0b2c3d4e5f6")

    name: Name
    parent_id: Id | None = Field(None, description="the parent department; null: top level")


class DepartmentUpdateIn(Input):
    model_config = example(name="Research and development", parent_id=None)

    name: Name | None = None
    parent_id: Id | None = Field(None, description="given as null: move to the top level; absent: stays")


class DepartmentPath(Input):
    department_id: Id


def out(d: Department) -> DepartmentOut:
    return DepartmentOut(id=d.id, name=d.name, parent_id=d.parent_id)


@endpoints.get("/departments", response=DepartmentListOut)
async def list_departments(call: Call) -> DepartmentListOut:
    """List departments

    The company's whole department tree, as a flat list with parent ids (`null`: top level), for every user of the
    company."""
    return DepartmentListOut(items=[out(d) for d in await rooms.list_departments(call.ctx, call.principal)])


@endpoints.post("/departments", body=DepartmentIn, response=DepartmentOut, status=201, errors=(403, 404))
async def create_department(call: Call) -> DepartmentOut:
    """Create a department

    At the top level or under `parent_id` (Administrate rooms, else 403 `permission_required`; 404 if the parent is
    not in the company). Audited as `department.created`."""
    body: DepartmentIn = call.body
    return out(await rooms.create_department(call.ctx, call.principal, name=body.name, parent_id=body.parent_id))


@endpoints.patch(
    "/departments/{department_id}",
    path_model=DepartmentPath,
    body=DepartmentUpdateIn,
    response=DepartmentOut,
    errors=(403, 404, 409),
)
async def update_department(call: Call) -> DepartmentOut:
    """Rename or move a department

    Administrate rooms. Fields left out stay as they are; `parent_id: null` moves it to the top level. Moving a
    department inside itself or one of its descendants is 409 `department_cycle`."""
    changes = call.body.model_dump(exclude_unset=True)
    return out(await rooms.update_department(call.ctx, call.principal, call.path.department_id, changes))


@endpoints.delete("/departments/{department_id}", path_model=DepartmentPath, status=204, errors=(403, 404, 409))
async def delete_department(call: Call) -> None:
    """Delete a department

    Administrate rooms. Only an empty department: one that still holds departments or rooms is 409
    `department_not_empty`."""
    await rooms.delete_department(call.ctx, call.principal, call.path.department_id)
