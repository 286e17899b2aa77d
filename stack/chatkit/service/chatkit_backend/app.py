"""FastAPI application: auth, chat, saved chats, health and metrics for the ChatKit widget."""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from . import __version__, db
from .config import Settings
from .jsonlog import JsonLogger, iso_utc, request_id_var
from .metrics import MetricsTracker
from .ratelimit import RateLimiter
from .tokens import Claims, InvalidToken, TokenExpired, issue_token, token_fingerprint, verify_token
from .validation import (
    ValidationError,
    is_valid_request_id,
    parse_bearer,
    parse_chat,
    parse_login,
    parse_save,
)

UNTRACKED = frozenset({("GET", "/health"), ("GET", "/metrics")})
HEALTH_LOG_INTERVAL_SECONDS = 5.0
INTERNAL_ERROR_MESSAGE = "An unexpected error occurred. Please try again later."


class ApiError(Exception):
    """An error response: ``{"error": code, **extra}`` with ``status`` and optional headers."""

    def __init__(
        self, status: int, code: str, headers: dict[str, str] | None = None, **extra: object
    ) -> None:
        super().__init__(code)
        self.status = status
        self.body: dict[str, object] = {"error": code, **extra}
        self.headers = headers


def _iso(moment: datetime) -> str:
    return iso_utc(moment.astimezone(UTC).timestamp())


def create_app(settings: Settings, clock: Callable[[], float] = time.time) -> FastAPI:
    """Build the service; nothing touches the database until a request needs it."""
    log = JsonLogger(settings.log_file, redact_enabled=settings.redaction_enabled, clock=clock)
    metrics = MetricsTracker(clock)
    limiter = RateLimiter(settings.rate_limit_window_seconds, clock)
    pool = db.BoundedPool(
        settings.database_url,
        max_size=settings.db_pool_max,
        acquire_timeout=settings.db_pool_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        init=db.ensure_schema,
        max_age=settings.db_conn_max_age_seconds,
    )
    last_health_log = [float("-inf")]

    app = FastAPI(
        title="ChatKit backend", version=__version__, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings, app.state.log, app.state.metrics = settings, log, metrics
    app.state.limiter, app.state.pool = limiter, pool

    # ---------------------------------------------------------------- plumbing
    @app.on_event("startup")
    async def announce() -> None:
        log.info(
            "service_started",
            version=__version__,
            host=settings.host,
            port=settings.port,
            redaction="on" if settings.redaction_enabled else "off",
        )
        if not settings.redaction_enabled:
            log.warning(
                "redaction_disabled", message="INTEGRATION_TEST_MODE is on: credentials are logged unredacted"
            )

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        supplied = request.headers.get("x-request-id")
        request_id = supplied if is_valid_request_id(supplied) else uuid.uuid4().hex
        reset_token = request_id_var.set(request_id)
        request.state.user_id = None
        started = time.perf_counter()
        try:
            try:
                response = await call_next(request)
            except Exception as exc:  # anything the route handlers did not turn into a response
                log.error(
                    "unhandled_exception",
                    exception_type=type(exc).__name__,
                    method=request.method,
                    path=request.url.path,
                )
                response = JSONResponse(
                    {"error": "internal_error", "message": INTERNAL_ERROR_MESSAGE, "request_id": request_id},
                    status_code=500,
                )
            response.headers["X-Request-ID"] = request_id
            if (request.method, request.url.path) not in UNTRACKED:
                duration_ms = round((time.perf_counter() - started) * 1000.0, 2)
                metrics.record(response.status_code, duration_ms)
                log.info(
                    "request_completed",
                    method=request.method,
                    path=request.url.path,
                    status=response.status_code,
                    duration_ms=duration_ms,
                    user_id=getattr(request.state, "user_id", None),
                )
            return response
        finally:
            request_id_var.reset(reset_token)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(ValidationError)
    async def bad_request(request: Request, exc: ValidationError) -> JSONResponse:
        return JSONResponse({"error": "bad_request", "message": str(exc)}, status_code=400)

    @app.exception_handler(db.StorageError)
    async def storage_error(request: Request, exc: db.StorageError) -> JSONResponse:
        log.error(
            "database_error",
            error_type=type(exc).__name__,
            message=str(exc),
            method=request.method,
            path=request.url.path,
        )
        return JSONResponse(
            {"error": "database_unavailable", "request_id": request_id_var.get()}, status_code=503
        )

    async def read_json(request: Request) -> object:
        try:
            return await request.json()
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValidationError("request body must be valid JSON") from exc

    # ------------------------------------------------------------ auth helpers
    def load_session_state(claims: Claims, fingerprint: str) -> str:
        with pool.connection() as conn:
            row = db.get_session(conn, claims.session_id)
            if (
                row is None
                or row.user_id != claims.user_id
                or not hmac.compare_digest(row.token_sha256, fingerprint)
            ):
                return "invalid"
            return "banned" if db.is_banned(conn, claims.user_id) else "ok"

    async def authenticate(request: Request, check_ban: bool = True) -> Claims:
        raw = parse_bearer(request.headers.get("authorization"))
        if raw is None:
            raise ApiError(401, "missing_token")
        try:
            claims = verify_token(settings.secret_key, raw, clock())
        except TokenExpired:
            log.warning("token_expired", token=raw)
            raise ApiError(401, "token_expired") from None
        except InvalidToken as exc:
            log.warning("invalid_session", reason=str(exc), token=raw)
            raise ApiError(401, "invalid_session") from None
        state = await run_in_threadpool(load_session_state, claims, token_fingerprint(raw))
        if state == "invalid":
            log.warning("invalid_session", reason="no matching session", user_id=claims.user_id, token=raw)
            raise ApiError(401, "invalid_session")
        request.state.user_id = claims.user_id
        if check_ban and state == "banned":
            log.warning("banned_user_rejected", user_id=claims.user_id, path=request.url.path)
            raise ApiError(403, "user_banned")
        return claims

    def enforce_limits(user_id: str, endpoint: str, user_key: str, user_limit: int) -> None:
        checks = (
            ("global", "global", settings.rate_limit_global_max_requests),
            ("user", user_key, user_limit),
        )
        for scope, key, limit in checks:
            decision = limiter.hit(key, limit)
            if not decision.allowed:
                metrics.record_rate_limit_hit()
                log.warning(
                    "rate_limit_exceeded",
                    user_id=user_id,
                    scope=scope,
                    endpoint=endpoint,
                    retry_after=decision.retry_after,
                )
                raise ApiError(
                    429,
                    "rate_limit_exceeded",
                    headers={"Retry-After": str(decision.retry_after)},
                    scope=scope,
                    retry_after=decision.retry_after,
                    request_id=request_id_var.get(),
                )

    # ------------------------------------------------------------------ routes
    @app.get("/health")
    async def health() -> JSONResponse:
        try:
            await run_in_threadpool(pool.probe)
        except Exception as exc:  # any failure to reach the database means degraded
            if clock() - last_health_log[0] >= HEALTH_LOG_INTERVAL_SECONDS:
                last_health_log[0] = clock()
                log.error(
                    "database_error",
                    error_type=type(exc).__name__,
                    message=db.describe_error(exc),
                    path="/health",
                )
            return JSONResponse(
                {
                    "status": "degraded",
                    "database": "disconnected",
                    "uptime_seconds": metrics.uptime_seconds(),
                },
                status_code=503,
            )
        return JSONResponse(
            {"status": "ok", "database": "connected", "uptime_seconds": metrics.uptime_seconds()}
        )

    @app.get("/metrics")
    async def metrics_snapshot() -> JSONResponse:
        return JSONResponse(metrics.snapshot())

    def login_in_db(user_id: str, session_id: str, fingerprint: str, expires: datetime) -> bool:
        with pool.connection() as conn:
            db.upsert_user(conn, user_id)
            if db.is_banned(conn, user_id):
                return False
            db.insert_session(conn, session_id, user_id, fingerprint, expires)
            return True

    @app.post("/auth/login")
    async def login(request: Request) -> JSONResponse:
        user_id = parse_login(await read_json(request))
        request.state.user_id = user_id
        issued = issue_token(settings.secret_key, user_id, clock(), settings.session_ttl_seconds)
        expires = datetime.fromtimestamp(issued.expires_at, tz=UTC)
        allowed = await run_in_threadpool(
            login_in_db, user_id, issued.session_id, token_fingerprint(issued.token), expires
        )
        if not allowed:
            log.warning("login_rejected", user_id=user_id, reason="user_banned")
            raise ApiError(403, "user_banned")
        log.info("login_success", user_id=user_id, session_id=issued.session_id, token=issued.token)
        return JSONResponse(
            {"token": issued.token, "user_id": user_id, "expires_at": iso_utc(issued.expires_at)}
        )

    @app.get("/auth/session")
    async def session(request: Request) -> JSONResponse:
        claims = await authenticate(request)
        return JSONResponse(
            {
                "user_id": claims.user_id,
                "session_id": claims.session_id,
                "expires_at": iso_utc(claims.expires_at),
            }
        )

    def delete_session(session_id: str) -> None:
        with pool.connection() as conn:
            db.delete_session(conn, session_id)

    @app.post("/auth/logout")
    async def logout(request: Request) -> JSONResponse:
        claims = await authenticate(request, check_ban=False)
        await run_in_threadpool(delete_session, claims.session_id)
        log.info("logout", user_id=claims.user_id, session_id=claims.session_id)
        return JSONResponse({"status": "logged_out"})

    @app.post("/api/v1/chat")
    async def chat(request: Request) -> JSONResponse:
        claims = await authenticate(request)
        enforce_limits(
            claims.user_id, "/api/v1/chat", f"chat:{claims.user_id}", settings.rate_limit_max_requests
        )
        message = parse_chat(await read_json(request))
        return JSONResponse({"reply": f"echo: {message}", "request_id": request_id_var.get()})

    def save_chat(user_id: str, title: str, messages: list[object]) -> int:
        with pool.connection() as conn:
            return db.insert_chat(conn, user_id, title, messages)

    @app.post("/chat/save")
    async def chat_save(request: Request) -> JSONResponse:
        claims = await authenticate(request)
        enforce_limits(claims.user_id, "/chat/save", f"save:{claims.user_id}", settings.rate_limit_save_chat)
        title, messages = parse_save(await read_json(request))
        chat_id = await run_in_threadpool(save_chat, claims.user_id, title, messages)
        log.info("chat_saved", user_id=claims.user_id, chat_id=chat_id)
        return JSONResponse({"chat_id": chat_id}, status_code=201)

    def history(user_id: str) -> list[db.ChatSummary]:
        with pool.connection() as conn:
            return db.list_chats(conn, user_id, limit=50)

    @app.get("/chat/history")
    async def chat_history(request: Request) -> JSONResponse:
        claims = await authenticate(request)
        chats = await run_in_threadpool(history, claims.user_id)
        return JSONResponse(
            {
                "chats": [
                    {"chat_id": c.chat_id, "title": c.title, "created_at": _iso(c.created_at)} for c in chats
                ]
            }
        )

    return app
