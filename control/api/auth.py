"""Login sessions: /auth/…"""

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Email, Input, Password, Secret, Slug
from control.services import auth

endpoints = EndpointGroup(tag="auth")


class LoginIn(Input):
    company: Slug = Field(description="the company's slug")
    email: Email
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(Input):
    refresh_token: Secret


class AcceptInvitationIn(Input):
    invitation_token: Secret
    password: Password


class PasswordChangeIn(Input):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: Password


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str = Field(description="used up by /auth/refresh, which returns a new one")
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token lives")


def _tokens(pair: auth.TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@endpoints.post("/auth/login", body=LoginIn, response=TokensOut, authenticated=False, errors=(401,))
async def login(call: Call) -> TokensOut:
    """Log in with email and password: an access token and a refresh token."""
    body: LoginIn = call.body
    return _tokens(await auth.login(call.ctx, body.company, body.email, body.password))


@endpoints.post("/auth/refresh", body=RefreshIn, response=TokensOut, authenticated=False, errors=(401,))
async def refresh(call: Call) -> TokensOut:
    """Trade a refresh token for a new token pair."""
    return _tokens(await auth.refresh(call.ctx, call.body.refresh_token))


@endpoints.post("/auth/logout", status=204, errors=(403,))
async def logout(call: Call) -> None:
    """Revoke the current session: its refresh token and its access tokens."""
    await auth.logout(call.ctx, call.principal)


@endpoints.post("/auth/accept-invitation", body=AcceptInvitationIn, response=TokensOut, authenticated=False,
                errors=(401,))
async def accept_invitation(call: Call) -> TokensOut:
    """Set a password with an invitation token (or a password reset's), and log in."""
    body: AcceptInvitationIn = call.body
    return _tokens(await auth.accept_invitation(call.ctx, body.invitation_token, body.password))


@endpoints.post("/auth/password", body=PasswordChangeIn, status=204, errors=(403,))
async def change_password(call: Call) -> None:
    """Change one's password; every session of the user is revoked."""
    body: PasswordChangeIn = call.body
    await auth.change_password(call.ctx, call.principal, body.current_password, body.new_password)
