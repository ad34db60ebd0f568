"""Authentication: login, refresh, logout, invitations, password changes, and resolving credentials."""

from dataclasses import dataclass

from control.errors import BadRequest, Forbidden, Unauthenticated
from control.security import principals, secrets, tokens
from control.security.passwords import hash_password, verify_password
from control.services.context import Context, record
from control.store.models import AuthSession, Company, User
from control.store.repositories.api_keys import find_by_secret_hash, record_use
from control.store.repositories.companies import Companies
from control.store.repositories.sessions import AuthSessions
from control.store.repositories.users import Users, find_by_invitation
from control.types import Principal


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    """Seconds the access token lives."""


async def _open_session(ctx: Context, user: User) -> TokenPair:
    refresh = secrets.new_secret()
    auth_session = await AuthSessions(ctx.session).add(
        AuthSession(
            user_id=user.id,
            refresh_hash=secrets.digest(refresh),
            created_at=ctx.now(),
            expires_at=ctx.now() + ctx.settings.refresh_token_ttl,
        )
    )
    return _pair(ctx, user, auth_session, refresh)


def _pair(ctx: Context, user: User, auth_session: AuthSession, refresh: str) -> TokenPair:
    ttl = ctx.settings.access_token_ttl
    access = tokens.issue(ctx.token_key, tokens.AccessClaims(user.id, user.company_id, auth_session.id), ttl, ctx.now())
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=int(ttl.total_seconds()))


def _refuse_suspended(company: Company) -> None:
    if company.suspended_at is not None:
        raise Forbidden("the company is suspended by the instance operator", code="company_suspended")


async def _active_company(ctx: Context, company_id: str) -> None:
    """A suspended company's users cannot use their tokens or keys (the principal cache is emptied by
    the write that suspends it, so this applies to the next request)."""
    company = await Companies(ctx.session).get(company_id)
    if company is not None:
        _refuse_suspended(company)


async def company_for_login(ctx: Context, company: str) -> Company | None:
    """The company a person names at sign-in: by its slug, else by its display name (ignoring case).
    A name that several companies share is refused (400 `ambiguous_company`): the slug tells them apart."""
    companies = Companies(ctx.session)
    by_slug = await companies.by_slug(company.strip().lower())
    if by_slug is not None:
        return by_slug
    named = await companies.named(company)
    if len(named) > 1:
        raise BadRequest(
            "several companies have this name: sign in with your company's slug",
            code="ambiguous_company",
        )
    return named[0] if named else None


async def login(ctx: Context, company_name: str, email: str, password: str) -> TokenPair:
    """Sign in with the company's slug or display name (`company_for_login`), an email and a password."""
    company = await company_for_login(ctx, company_name)
    user = await Users(ctx.session, company.id).by_email(email) if company else None
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated("unknown company, email or password", code="invalid_credentials")
    assert company is not None
    _refuse_suspended(company)
    pair = await _open_session(ctx, user)
    await ctx.session.commit()
    return pair


async def refresh(ctx: Context, refresh_token: str) -> TokenPair:
    """A new token pair; the presented refresh token is used up (rotation)."""
    sessions = AuthSessions(ctx.session)
    auth_session = await sessions.by_refresh_hash(secrets.digest(refresh_token))
    if auth_session is None or auth_session.revoked_at is not None or auth_session.expires_at <= ctx.now():
        raise Unauthenticated("refresh token unknown, expired or revoked", code="invalid_refresh_token")
    user = await ctx.session.get(User, auth_session.user_id)
    if user is None or user.pending:
        raise Unauthenticated("refresh token unknown, expired or revoked", code="invalid_refresh_token")
    await _active_company(ctx, user.company_id)
    new_refresh = secrets.new_secret()
    auth_session.refresh_hash = secrets.digest(new_refresh)
    pair = _pair(ctx, user, auth_session, new_refresh)
    await ctx.session.commit()
    return pair


async def logout(ctx: Context, principal: Principal) -> None:
    """Revoke the caller's login session: its refresh token and every access token issued with it."""
    if principal.session_id is None:
        raise Forbidden("an API key has no session to log out of", code="session_required")
    auth_session = await AuthSessions(ctx.session).get(principal.session_id)
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = ctx.now()
    await ctx.session.commit()


async def change_password(ctx: Context, principal: Principal, current: str, new: str) -> None:
    """Set a new password and revoke every session of the user (the caller's included)."""
    if principal.session_id is None:
        raise Forbidden("an API key cannot change its user's password", code="session_required")
    user = await Users(ctx.session, principal.company_id).get(principal.user_id)
    if user is None:
        raise Unauthenticated("user no longer exists")
    if not verify_password(user.password_hash, current):
        raise Forbidden("the current password is wrong", code="wrong_password")
    user.password_hash = hash_password(new)
    await AuthSessions(ctx.session).revoke_all(user.id, ctx.now())
    await record(ctx, principal, "user.password_changed", "user", user.id)
    await ctx.session.commit()


async def accept_invitation(ctx: Context, invitation: str, password: str) -> TokenPair:
    """The invited user sets a password, becomes a current user and is logged in."""
    user = await find_by_invitation(ctx.session, secrets.digest(invitation))
    expires = user.invitation_expires_at if user else None
    if user is None or expires is None or expires <= ctx.now():
        raise Unauthenticated("invitation unknown, used or expired", code="invalid_invitation")
    user.password_hash = hash_password(password)
    user.invitation_hash = None
    user.invitation_expires_at = None
    actor = Principal(company_id=user.company_id, user_id=user.id, permissions=frozenset())
    await record(ctx, actor, "user.activated", "user", user.id, before={"pending": True}, after={"pending": False})
    pair = await _open_session(ctx, user)
    await ctx.session.commit()
    return pair


async def authenticate(ctx: Context, credential: str) -> Principal:
    """The principal behind a bearer credential: an API key (`pdm_…`) or an access token.

    The credential is checked on every call; the principal it names comes from the per-process
    cache of `control.security.principals` when a recent request resolved it and nothing that could
    change it was written since, from the store otherwise."""
    cache = principals.for_session(ctx.session)
    if secrets.is_api_key(credential):
        return await _authenticate_key(ctx, credential, cache)
    try:
        claims = tokens.verify(ctx.token_key, credential)
    except tokens.InvalidToken as exc:
        raise Unauthenticated(str(exc), code="invalid_token") from exc
    key = "s:" + claims.session_id
    cached = cache.get(key) if cache is not None else None
    if cached is not None and cached.user_id == claims.user_id and cached.company_id == claims.company_id:
        return cached
    ticket = cache.ticket() if cache is not None else 0
    auth_session = await AuthSessions(ctx.session).get(claims.session_id)
    if auth_session is None or auth_session.revoked_at is not None or auth_session.user_id != claims.user_id:
        raise Unauthenticated("access token revoked", code="invalid_token")
    users = Users(ctx.session, claims.company_id)
    user = await users.get(claims.user_id)
    if user is None or user.pending:
        raise Unauthenticated("access token revoked", code="invalid_token")
    await _active_company(ctx, user.company_id)
    principal = Principal(
        company_id=user.company_id,
        user_id=user.id,
        permissions=await users.permissions(user.id),
        session_id=auth_session.id,
    )
    if cache is not None:
        cache.put(key, principal, ticket)
    return principal


async def _authenticate_key(ctx: Context, credential: str, cache: principals.PrincipalCache | None) -> Principal:
    secret_hash = secrets.digest(credential)
    key = "k:" + secret_hash
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        assert cached.api_key_id is not None and cache is not None
        if cache.last_use_due(cached.api_key_id):
            await _record_use(ctx, cached.api_key_id)
        return cached
    ticket = cache.ticket() if cache is not None else 0
    api_key = await find_by_secret_hash(ctx.session, secret_hash)
    if api_key is None or api_key.revoked_at is not None:
        raise Unauthenticated("API key unknown or revoked", code="invalid_api_key")
    users = Users(ctx.session, api_key.company_id)
    if await users.get(api_key.user_id) is None:
        raise Unauthenticated("API key unknown or revoked", code="invalid_api_key")
    await _active_company(ctx, api_key.company_id)
    principal = Principal(
        company_id=api_key.company_id,
        user_id=api_key.user_id,
        permissions=await users.permissions(api_key.user_id),
        api_key_id=api_key.id,
    )
    if cache is not None:
        cache.put(key, principal, ticket)
        cache.last_use_due(api_key.id)
    await _record_use(ctx, api_key.id)
    return principal


async def _record_use(ctx: Context, key_id: str) -> None:
    """Write the key's last use (committed at once: recorded even when the request then fails). The
    write is tagged as changing no principal, so it does not empty the cache."""
    await record_use(ctx.session, key_id, ctx.now(), **{principals.NEUTRAL: True})
    await ctx.session.commit()
