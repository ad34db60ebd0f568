"""Login sessions: /auth/…"""

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Email, Input, Password, Secret, example
from control.services import auth

endpoints = EndpointGroup(tag="auth")


class LoginIn(Input):
    model_config = example(company="acme", email="ada@acme.example", password="correct horse battery staple")

    company: str = Field(
        min_length=1,
        max_length=200,
        description="the company's slug, or its name (any case) when no other company has it",
    )
    email: Email
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(Input):
    model_config = example(refresh_token="Jm1c3VcH2f0Lx9kq8RZp6wYtN4aB7eDq")

    refresh_token: Secret


class AcceptInvitationIn(Input):
    model_config = example(invitation_token="q8RZp6wYtN4aB7eDqJm1c3VcH2f0Lx9k", password="correct horse battery staple")

    invitation_token: Secret
    password: Password


class PasswordChangeIn(Input):
    model_config = example(current_password="correct horse battery staple", new_password="a new, longer passphrase")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: Password


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str = Field(description="used up by /auth/refresh, which returns a new one")
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token lives")


def _tokens(pair: auth.TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@endpoints.post(
    "/auth/login", body=LoginIn, response=TokensOut, authenticated=False, errors=(400, 401), rate_limit="login"
)
async def login(call: Call) -> TokensOut:
    """Log in

    With the company's slug (or its name, in any case), an email and a password: an access token (15 minutes) and a
    refresh token. A wrong company, email or password, or a pending user, is 401 `invalid_credentials`, without
    saying which. A name that several companies have is 400 `ambiguous_company`: sign in with the slug."""
    body: LoginIn = call.body
    return _tokens(await auth.login(call.ctx, body.company, body.email, body.password))


@endpoints.post(
    "/auth/refresh", body=RefreshIn, response=TokensOut, authenticated=False, errors=(401,), rate_limit="refresh"
)
async def refresh(call: Call) -> TokensOut:
    """Refresh the tokens

    Trade a refresh token for a new access token and a new refresh token. A refresh token is single-use: presenting
    it a second time, or after logout or a password change, is 401 `invalid_refresh_token`."""
    return _tokens(await auth.refresh(call.ctx, call.body.refresh_token))


@endpoints.post("/auth/logout", status=204, errors=(403,))
async def logout(call: Call) -> None:
    """Log out

    Revoke the current login session: its refresh token and every access token it issued stop working at once. An
    API key has no session to end (403 `session_required`)."""
    await auth.logout(call.ctx, call.principal)


@endpoints.post(
    "/auth/accept-invitation",
    body=AcceptInvitationIn,
    response=TokensOut,
    authenticated=False,
    errors=(401,),
    rate_limit="invitation",
)
async def accept_invitation(call: Call) -> TokensOut:
    """Accept an invitation

    Set a password with the invitation token of `POST /users` (or of a password reset) and log in: the user stops
    being pending. The token is single-use; an unknown, used or expired one is 401 `invalid_invitation`."""
    body: AcceptInvitationIn = call.body
    return _tokens(await auth.accept_invitation(call.ctx, body.invitation_token, body.password))


@endpoints.post("/auth/password", body=PasswordChangeIn, status=204, errors=(403,))
async def change_password(call: Call) -> None:
    """Change one's password

    Needs the current password (403 `wrong_password` otherwise) and a login session (403 `session_required` for API
    keys). Every session of the user is revoked, the current one included: log in again with the new password."""
    body: PasswordChangeIn = call.body
    await auth.change_password(call.ctx, call.principal, body.current_password, body.new_password)
