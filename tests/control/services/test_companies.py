import pytest

from control.domain.permissions import ALL
from control.domain.quotas import Quotas
from control.errors import Conflict
from control.services import companies
from control.store.repositories.users import Users


async def test_bootstrap_makes_an_administrator_holding_everything_and_refuses_a_second_slug(app):
    async with app.state.context() as ctx:
        company, admin = await companies.bootstrap(
            ctx,
            slug="acme",
            name="Acme",
            email="A@Acme.example",
            password="pw123456",
            admin_name="A",
            quotas=Quotas(1, 2, 3),
        )
        assert admin.email == "a@acme.example" and not admin.pending
        assert await Users(ctx.session, company.id).permissions(admin.id) == ALL
        with pytest.raises(Conflict, match="a company with the slug 'acme' exists already"):
            await companies.bootstrap(
                ctx,
                slug="acme",
                name="Other",
                email="b@x.io",
                password="pw123456",
                admin_name="B",
                quotas=Quotas(1, 2, 3),
            )
