"""The caller's company: /company"""

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Input, Name, Text, example
from control.services import companies

endpoints = EndpointGroup(tag="company")


class QuotasOut(BaseModel):
    max_rooms: int
    max_users: int
    max_participants: int = Field(description="participants online at once")
    rooms: int = Field(description="rooms now")
    users: int = Field(description="current and pending users now")


class CompanyOut(BaseModel):
    id: str
    slug: str
    name: str
    privacy_notice: str = Field(description="the host's data-protection notice")
    quotas: QuotasOut | None = Field(description="for holders of Manage company settings only")


class CompanyUpdateIn(Input):
    model_config = example(
        name="Acme Corporation", privacy_notice="Meetings are not recorded. Chat is kept for 30 days."
    )

    name: Name | None = None
    privacy_notice: Text | None = Field(
        None, description="the host's data-protection notice, which every user of the company can read"
    )


def out(view: companies.CompanyView) -> CompanyOut:
    c = view.company
    quotas = None
    if view.usage is not None:
        quotas = QuotasOut(
            max_rooms=c.max_rooms,
            max_users=c.max_users,
            max_participants=c.max_participants,
            rooms=view.usage.rooms,
            users=view.usage.users,
        )
    return CompanyOut(id=c.id, slug=c.slug, name=c.name, privacy_notice=c.privacy_notice, quotas=quotas)


@endpoints.get("/company", response=CompanyOut)
async def get_company(call: Call) -> CompanyOut:
    """The caller's company

    Its id, slug (used at login), name and data-protection notice, for every user. Holders of Manage company
    settings also see the quotas and the usage against them; others get `quotas: null`."""
    return out(await companies.view(call.ctx, call.principal))


@endpoints.patch("/company", body=CompanyUpdateIn, response=CompanyOut, errors=(403,))
async def update_company(call: Call) -> CompanyOut:
    """Change the company's settings

    Change the name or the data-protection notice (Manage company settings, else 403 `permission_required`). Fields
    left out stay as they are. Audited as `company.updated`."""
    body: CompanyUpdateIn = call.body
    return out(await companies.update(call.ctx, call.principal, name=body.name, privacy_notice=body.privacy_notice))
