"""All configuration in one typed place, read from the environment or a .env file.

Secrets (JWT signing key, VAPID keys, the app role's database password) are not
settings with defaults: when the environment does not supply them they are generated
once into the data directory (see app/core/secrets.py).
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    app_env: Literal["development", "test", "production"] = "development"
    data_dir: Path = PROJECT_ROOT / ".data"
    log_level: str = "INFO"

    # Owner connection: migrations and role setup. Unset = embedded PostgreSQL.
    database_url: str | None = None
    # The application's own role (non-owner, RLS-restricted). Unset = derived from
    # database_url with user APP_DB_ROLE and a generated password.
    app_database_url: str | None = None
    app_db_role: str = "switchboard_app"
    db_pool_size: int = 10
    # The embedded PostgreSQL's shared_buffers, in MB. 0 = a quarter of the
    # machine's memory, at most 8 GB (the usual tuning; PostgreSQL's own 128 MB
    # makes every HNSW query copy its graph pages in from the OS cache); -1 =
    # leave the server's setting. An external server is tuned by its operator.
    embedded_pg_shared_buffers_mb: int = 0

    # Unset = embedded Redis on a unix socket in the data dir.
    redis_url: str | None = None
    redis_prefix: str = "sb"

    frontend_port: int = 3000
    backend_port: int = 8000
    public_url: str = "http://localhost:3000"
    api_url: str = "http://localhost:8000"
    # Browser origins allowed to call the API and open the event websocket with
    # credentials, comma-separated. Unset = the origins of PUBLIC_URL and API_URL.
    # "*" and "null" are refused: credentials must never go to any origin.
    cors_origins: str = ""

    # Model: any litellm model string; "switchboard/offline" is the built-in model.
    llm_model: str = "switchboard/offline"
    llm_api_base: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 30.0
    llm_max_retries: int = 2
    # Sent with every chat call: a turn's answer is short JSON, and a server
    # left to generate until the timeout keeps generating after we gave up.
    llm_temperature: float = 0.1
    llm_max_tokens: int = 800
    # "json": JSON mode where the provider has it; "json_schema": the answer's
    # schema as a response format (grammar-constrained servers such as llama.cpp);
    # "tools": a forced tool call.
    llm_output_mode: Literal["json", "json_schema", "tools"] = "json"
    embedding_model: str = "switchboard/minilm"
    embedding_dim: int = 384
    # Threads the in-process embedding model uses for one encode. One: the cores
    # are used by processes (a worker per core, PostgreSQL, the app), and torch's
    # threads on a busy machine spin for each other (2 threads cost 1.7x the CPU
    # of one per sentence, measured on 2 cores). 0 = torch's default (all cores).
    embedding_threads: int = Field(default=1, ge=0)
    # How the in-process MiniLM runs: "onnx" (ONNX Runtime, a graph exported once
    # from the wheel; the same vectors for less than half the CPU) or "torch"
    # (sentence-transformers). Switching needs no re-embedding.
    embedding_runtime: Literal["onnx", "torch"] = "onnx"

    # Auth
    jwt_issuer: str = "switchboard"
    jwt_audience: str = "switchboard-api"
    jwt_private_key: str | None = None
    jwt_key_id: str | None = None
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    login_rate_per_minute: int = 10
    # Length of one rate-limit window; the *_per_minute limits count within it.
    rate_limit_window_s: int = 60
    message_rate_per_minute: int = 30
    max_body_bytes: int = 64 * 1024

    # Web Push
    vapid_private_key: str | None = None
    vapid_public_key: str | None = None
    vapid_subject: str = "mailto:ops@switchboard.example"
    # Networks (CIDR, comma-separated) push endpoints may resolve into although not
    # public, e.g. an on-site push relay; such endpoints may also use http and any
    # port. Empty: only public addresses, https, port 443 (app/core/netguard.py).
    push_private_networks: str = ""

    # GET /api/metrics: besides operators (bearer token), callers whose address is
    # in one of these networks (CIDR, comma-separated; "" = operators only). A
    # request relayed by a proxy (X-Forwarded-For/Forwarded) never counts as local.
    metrics_allow_networks: str = "127.0.0.1/32,::1/128"

    # Assistant loop
    # A queued job wakes the workers (jobs/waking_worker.py); the timed poll only
    # catches lost wake-ups and deferred jobs coming due.
    worker_poll_delay_s: float = 0.1
    # Jobs one worker process runs at once; unset = `max_jobs` below.
    worker_max_jobs: int | None = None
    # Kept above the model's own budget (see _job_outlasts_model): a job killed
    # before its model call gives up is retried while the server still works.
    job_timeout_s: int = 60
    tenant_max_concurrency: int = 2
    # One tenant's submits in flight at once per app/API process (the rest wait
    # their turn there): a burst from one tenant leaves the connection pool to the
    # others (app/core/tenant_gate.py). Below DB_POOL_SIZE.
    tenant_submit_concurrency: int = Field(default=4, ge=1)
    # A tenant with this many embedded memories gets its own HNSW index
    # (app/core/tenant_vector_index.py); below it an exact scan stays under ~10 ms.
    tenant_vector_index_min_rows: int = 5_000
    sweeper_stuck_after_s: int = 30
    approval_ttl_hours: int = 48
    # Keep each turn's stage timings in Redis for `make bench` (app/core/stages.py).
    record_stages: bool = False
    default_monthly_token_budget: int = 2_000_000

    demo_password: str = Field(default="switchboard-demo")

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, value: str) -> str:
        for item in _split(value):
            origin_of(item)  # raises on "*", "null" and anything not a URL origin
        return value

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """The CORS allow-list, one normalised origin each (scheme://host[:port])."""
        items = _split(self.cors_origins) or [self.public_url, self.api_url]
        return tuple(dict.fromkeys(origin_of(item) for item in items))

    @field_validator("metrics_allow_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in _split(value):
            ip_network(item, strict=False)  # raises on anything not a network
        return value

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(
            ip_network(i, strict=False) for i in _split(self.metrics_allow_networks)
        )

    @property
    def max_jobs(self) -> int:
        """WORKER_MAX_JOBS, else by model. A turn waiting on a hosted model holds no
        database connection (the pool serves the short reads and the final write),
        so 200 at once is fine: with a 1.5 s model, 100 turns at once is about 60
        messages/s from one process. The built-in model is CPU work in this
        process: more turns at once only share the CPU, each slower, until all of
        them hit JOB_TIMEOUT_S together; queued jobs wait without that clock."""
        if self.worker_max_jobs is not None:
            return self.worker_max_jobs
        return 10 if self.llm_model.startswith("switchboard/") else 200

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @model_validator(mode="after")
    def _job_outlasts_model(self) -> Settings:
        """The job must outlast the model's timeout, or the worker kills it while
        the model still works (and its retry queues behind the same server)."""
        floor = int(self.llm_timeout_s + 10)
        if self.job_timeout_s < floor:
            self.job_timeout_s = floor
        return self


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def origin_of(url: str) -> str:
    """The origin a browser sends for pages under `url`: lower-case scheme and host,
    the port only when it is not the scheme's default, no path."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) origin: {url!r}")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
