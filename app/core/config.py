"""Service configuration, read once from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only ever acceptable while developing; production refuses it (and any short secret).
DEVELOPMENT_SECRET = "zhucun-development-secret-do-not-use-in-production"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str = Field(default="", alias="DATABASE_URL")
    env: Literal["development", "production"] = Field(default="development", alias="ZHUCUN_ENV")
    secret_key: str = Field(default=DEVELOPMENT_SECRET, alias="ZHUCUN_SECRET_KEY")
    policy_file: Path | None = Field(default=None, alias="ZHUCUN_POLICY")
    cors_origins: str = Field(default="", alias="ZHUCUN_CORS_ORIGINS")
    token_ttl_seconds: int = Field(default=8 * 3600, alias="ZHUCUN_TOKEN_TTL")
    # A refresh token unused this long stops working; each refresh starts the period again.
    refresh_ttl_seconds: int = Field(default=30 * 86400, alias="ZHUCUN_REFRESH_TTL")
    # A rotated refresh token presented again this soon answers the same new pair (a page's
    # parallel requests refreshing at once); later, reuse revokes the session (app.auth.sessions).
    refresh_grace_seconds: int = Field(default=30, ge=0, le=600, alias="ZHUCUN_REFRESH_GRACE")
    # WeChat mini-program sign-in (`POST /auth/wechat`); off while the appid is empty.
    wechat_appid: str = Field(default="", alias="ZHUCUN_WECHAT_APPID")
    wechat_secret: str = Field(default="", alias="ZHUCUN_WECHAT_SECRET")
    wechat_api_base: str = Field(default="https://api.weixin.qq.com", alias="ZHUCUN_WECHAT_API")
    wechat_timeout_seconds: float = Field(default=5.0, alias="ZHUCUN_WECHAT_TIMEOUT")
    max_body_bytes: int = Field(default=1_048_576, alias="ZHUCUN_MAX_BODY_BYTES")
    # Worker threads that store uploads at once, per process (the other routes share anyio's
    # 40): a check-in is mostly Python holding the GIL, and 32 threads contending for it cost
    # more CPU than the check-ins themselves (bench/checkins_bench.py, ZHUCUN_UPLOAD_THREADS).
    upload_threads: int = Field(default=2, ge=1, le=64, alias="ZHUCUN_UPLOAD_THREADS")
    # Async connections per process for plain check-ins on PostgreSQL (app.checkins.fast_path):
    # on 2 cores shared with the database, 4 did 892-898/s at p99 58-83 ms, 16 did 733/s at
    # 157 ms (bench/checkins_bench.py).
    upload_connections: int = Field(default=4, ge=1, le=64, alias="ZHUCUN_UPLOAD_CONNECTIONS")
    # Plain check-ins stored in one transaction at most (app.checkins.fast_path): 1 stores
    # each alone. 1 worker, 32 connections: 16 did 2,166/s at p99 24 ms, 1 did 1,541/s at
    # p99 33 ms (bench/checkins_bench.py).
    upload_group: int = Field(default=16, ge=1, le=256, alias="ZHUCUN_UPLOAD_GROUP")
    # "transaction": the database URL is PgBouncer's in transaction mode, where consecutive
    # transactions may run on different server connections: nothing is prepared, and no
    # startup `options` are sent (app.core.db.make_engine reads it; docs/SCALING.md §4).
    db_pooler: Literal["none", "transaction"] = Field(default="none", alias="ZHUCUN_DB_POOLER")
    # A streaming replica that reports read on (app.core.replica), and the lag past which
    # they read on the primary instead.
    reports_database_url: str | None = Field(default=None, alias="ZHUCUN_REPORTS_DATABASE_URL")
    reports_max_lag_s: float = Field(default=30.0, gt=0, alias="ZHUCUN_REPORTS_MAX_LAG_S")
    docs_enabled: bool = Field(default=True, alias="ZHUCUN_DOCS")
    log_level: str = Field(default="INFO", alias="ZHUCUN_LOG_LEVEL")
    trusted_proxies: str = Field(default="", alias="ZHUCUN_TRUSTED_PROXIES")
    # Ed25519 key that signs checkpoints and export receipts (app.audit.keys).
    signing_key_file: Path | None = Field(default=None, alias="ZHUCUN_SIGNING_KEY_FILE")
    # Exports are written here before they are sent (app.core.scratch).
    export_dir: Path | None = Field(default=None, alias="ZHUCUN_EXPORT_DIR")
    # Notifications (app.notify): webhook targets and the WeChat subscription messages.
    webhooks: str = Field(default="", alias="ZHUCUN_WEBHOOKS")
    webhook_secret: str = Field(default="", alias="ZHUCUN_WEBHOOK_SECRET")
    dingtalk_secret: str = Field(default="", alias="ZHUCUN_DINGTALK_SECRET")
    notify_timeout_seconds: float = Field(default=5.0, gt=0, le=60, alias="ZHUCUN_NOTIFY_TIMEOUT")
    notify_attempts: int = Field(default=10, ge=1, le=100, alias="ZHUCUN_NOTIFY_ATTEMPTS")
    notify_backoff_seconds: float = Field(default=10.0, gt=0, alias="ZHUCUN_NOTIFY_BACKOFF")
    wechat_template_roll_call: str = Field(default="", alias="ZHUCUN_WECHAT_TEMPLATE_ROLL_CALL")
    wechat_fields_roll_call: str = Field(
        default="thing1=message,time2=deadline", alias="ZHUCUN_WECHAT_FIELDS_ROLL_CALL"
    )
    wechat_page_roll_call: str = Field(default="", alias="ZHUCUN_WECHAT_PAGE_ROLL_CALL")
    wechat_template_leave_decision: str = Field(
        default="", alias="ZHUCUN_WECHAT_TEMPLATE_LEAVE_DECISION"
    )
    wechat_fields_leave_decision: str = Field(
        default="phrase1=result,thing2=type,date3=period",
        alias="ZHUCUN_WECHAT_FIELDS_LEAVE_DECISION",
    )
    wechat_page_leave_decision: str = Field(default="", alias="ZHUCUN_WECHAT_PAGE_LEAVE_DECISION")

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                "ZHUCUN_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters when ZHUCUN_ENV=production"
            )
        return self

    @model_validator(mode="after")
    def _require_database_in_production(self) -> Settings:
        # Without it the service would make zhucun.db wherever it was started (in the image,
        # a folder it cannot write).
        if self.env == "production" and not self.database_url:
            raise ValueError(
                "DATABASE_URL must be set when ZHUCUN_ENV=production "
                "(postgresql+psycopg://USER:PASSWORD@HOST/zhucun, or sqlite:////path/zhucun.db)"
            )
        return self

    @model_validator(mode="after")
    def _check_trusted_proxies(self) -> Settings:
        from app.core.proxies import parse_networks

        parse_networks(self.trusted_proxies)  # ValueError names the bad entry
        return self

    @model_validator(mode="after")
    def _check_notification_targets(self) -> Settings:
        from app.core import targets

        targets.parse_webhooks(self.webhooks)  # ValueError names the bad entry
        targets.parse_fields(
            self.wechat_fields_roll_call,
            targets.ROLL_CALL_SOURCES,
            "ZHUCUN_WECHAT_FIELDS_ROLL_CALL",
        )
        targets.parse_fields(
            self.wechat_fields_leave_decision,
            targets.LEAVE_DECISION_SOURCES,
            "ZHUCUN_WECHAT_FIELDS_LEAVE_DECISION",
        )
        return self

    @property
    def effective_database_url(self) -> str:
        """`DATABASE_URL`, or (in development only) an SQLite file in the working directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path.cwd() / 'zhucun.db'}"

    @property
    def effective_export_dir(self) -> Path:
        """`ZHUCUN_EXPORT_DIR`, or `zhucun-exports-<uid>` in the system's temporary folder."""
        from app.core.scratch import default_folder

        return self.export_dir or default_folder()

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
