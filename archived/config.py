"""The daemon's configuration: one TOML file, validated with pydantic.

Errors name the key and say what was expected. Secrets never live in the file itself: the Moodle token (and
later S3 keys, SMTP passwords) come from a file that only its owner can read, or from an environment variable.
"""

from __future__ import annotations

import os
import stat
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from archived.errors import ConfigError
from archived.protocol.events import DURABLE_KINDS

DEFAULT_CONFIG_PATH = Path("/etc/archived/archived.toml")
DEFAULT_SOCKET_PATH = Path("/run/archived/archived.sock")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DaemonConfig(_Section):
    """`[daemon]`: where the daemon keeps its state and how much it runs at once."""

    state_dir: Path = Path("/var/lib/archived")
    socket: Path = DEFAULT_SOCKET_PATH
    socket_mode: str = "0660"
    socket_group: str | None = None
    max_running_jobs: Annotated[int, Field(ge=1, le=100)] = 5
    job_timeout_minutes: Annotated[float, Field(gt=0)] = 120.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Control socket limits: anyone who can open the socket may read, so no reader may starve the operators
    # or the jobs. The connection cap is also bounded by the open-file limit minus file_descriptor_reserve.
    max_connections: Annotated[int, Field(ge=2, le=100_000)] = 512
    max_connections_per_user: Annotated[int, Field(ge=1)] = 32
    operator_connections: Annotated[int, Field(ge=1)] = 16  # of max_connections, kept for operators
    file_descriptor_reserve: Annotated[int, Field(ge=0)] = 256  # kept free for jobs (files, pipes, HTTP)
    hello_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    idle_timeout_seconds: Annotated[float, Field(gt=0)] = 900.0  # never applies while events are subscribed
    overview_refresh_cooldown_seconds: Annotated[float, Field(ge=0)] = 60.0

    @field_validator("socket_mode")
    @classmethod
    def _octal_mode(cls, value: str) -> str:
        try:
            mode = int(value, 8)
        except ValueError as exc:
            raise ValueError(f'expected an octal file mode such as "0660", got {value!r}') from exc
        if mode & 0o007:
            raise ValueError("the socket must not be accessible to others (use 0660 or 0600)")
        return value

    @model_validator(mode="after")
    def _operators_keep_room(self) -> DaemonConfig:
        if self.operator_connections >= self.max_connections:
            raise ValueError(
                f"operator_connections ({self.operator_connections}) must be smaller than max_connections "
                f"({self.max_connections}): it is the part of max_connections kept for operators"
            )
        return self

    @property
    def socket_mode_bits(self) -> int:
        """The socket's permission bits."""
        return int(self.socket_mode, 8)


class AccessConfig(_Section):
    """`[access]`: who may change things through the socket (checked with the peer's credentials)."""

    operator_users: list[str | int] = Field(default_factory=lambda: list[str | int](["root"]))
    operator_groups: list[str | int] = Field(default_factory=lambda: list[str | int](["archived"]))
    allow_daemon_user: bool = True


class RetryConfig(_Section):
    """`[retry]`: how often and how patiently a failed stage is retried."""

    max_retries: Annotated[int, Field(ge=0, le=100)] = 5
    backoff_base_seconds: Annotated[float, Field(ge=0)] = 10.0
    backoff_max_seconds: Annotated[float, Field(ge=0)] = 900.0


class DaskWorkersConfig(_Section):
    """`[workers.dask]`: the Dask scheduler of the render hosts (docs/render-hosts.md)."""

    # tls://host:8786; tcp:// only to a scheduler on this machine. The rule (archived_render.cluster_address) is
    # checked where the daemon builds its render service, as for `archived render-worker`'s options.
    scheduler: str
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    fallback_local: bool = False  # render locally when the cluster is not ready at a job's start (else retry later)
    min_workers: Annotated[int, Field(ge=1)] = 1  # matching workers the cluster must have for a job to use it
    # Quiz reports: build the HTML on the render hosts too (the daemon's CPU per attempt 31 → 13 ms, the hosts'
    # +20 %); false when the hosts are few and the daemon has CPU to spare (docs/render-hosts.md).
    html_on_hosts: bool = True


class WorkersConfig(_Section):
    """`[workers]`: where reports render — the local process pool, or render hosts on a Dask cluster."""

    backend: Literal["local", "dask"] = "local"
    dask: DaskWorkersConfig | None = None  # required with backend = "dask"

    render_processes: Annotated[int, Field(ge=0, le=64)] = 0  # 0 = one per core
    max_tasks_per_child: Annotated[int, Field(ge=1)] = 500
    render_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    render_retries: Annotated[int, Field(ge=0, le=10)] = 2
    # WeasyPrint speed patches (archived_render.weasy_patches); they engage only on the WeasyPrint/pydyf versions
    # they were proven on. The environment variable ARCHIVED_WEASYPRINT_PATCHES=off|on wins over this.
    weasyprint_patches: bool = True

    @property
    def processes(self) -> int:
        """The effective number of render processes."""
        return self.render_processes or (os.cpu_count() or 1)

    @model_validator(mode="after")
    def _dask_configured(self) -> WorkersConfig:
        if self.backend == "dask" and self.dask is None:
            raise ValueError('backend = "dask" needs a [workers.dask] table with at least `scheduler`')
        return self


class RetentionConfig(_Section):
    """`[retention]`: how long the store keeps delivered events and job log lines (0 = for good). Warning and error
    lines of a job's log are kept as long as its record, whatever is set here."""

    delivered_events_days: Annotated[int, Field(ge=0)] = 30
    debug_log_days: Annotated[int, Field(ge=0)] = 90
    info_log_days: Annotated[int, Field(ge=0)] = 0
    sweep_interval_minutes: Annotated[float, Field(gt=0)] = 60.0


class MoodleConfig(_Section):
    """`[moodle]`: the site and the web-service token of the dedicated service user."""

    # Declared before `url`, whose validator reads it (pydantic validates fields in this order).
    allow_insecure_http: bool = False  # plain http:// to a host other than this machine: token in clear text
    url: str
    token_file: Path | None = None
    token_env: str | None = None
    site_url: str | None = None  # Moodle's own wwwroot when the daemon reaches it under another address
    ca_file: Path | None = None  # CA bundle for an internal certificate authority
    verify_tls: bool = True
    max_concurrent_requests: Annotated[int, Field(ge=1, le=64)] = 4
    requests_per_second: Annotated[float, Field(ge=0)] = 20.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 60.0  # deadline of a whole request, answer included
    download_min_bytes_per_second: Annotated[float, Field(ge=0)] = 4096.0  # 0 = no minimum
    download_rate_window_seconds: Annotated[float, Field(gt=0)] = 30.0
    download_timeout_seconds: Annotated[float, Field(gt=0)] = 1800.0
    retries: Annotated[int, Field(ge=0, le=20)] = 3
    overview_refresh_minutes: Annotated[float, Field(ge=0)] = 60.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected the site's base URL starting with https:// (got {value!r})")
        value = value.rstrip("/")
        parts = urlsplit(value)
        if parts.scheme != "http" or info.data.get("allow_insecure_http"):
            return value
        # Imported here: the Moodle client's modules load httpx, which https:// configurations never need here.
        from archived.moodle.urls import is_loopback_host

        if not is_loopback_host(parts.hostname or ""):
            raise ValueError(
                f"{value} is plain http://, so the web-service token would travel unencrypted to "
                f"{parts.hostname}. Use the site's https:// address; if the network path is trusted (e.g. an "
                "internal link to a reverse proxy), set moodle.allow_insecure_http = true"
            )
        return value

    @model_validator(mode="after")
    def _token_source(self) -> MoodleConfig:
        if self.token_file is None and self.token_env is None:
            raise ValueError("set token_file (a file readable only by the daemon) or token_env")
        return self


class ArchiveConfig(_Section):
    """`[archive]`: facts written into every archive's bag-info.txt."""

    source_organization: str = "archived"
    contact_email: str | None = None


class TimestampConfig(_Section):
    """`[timestamp]`: RFC 3161 timestamps over every archive's tag manifest, from these authorities (TSAs)."""

    tsa_urls: list[str] = Field(default_factory=list)  # tried in order; empty = archives get no timestamp
    ca_file: Path | None = None  # the roots a TSA's reply must chain to (PEM); required with tsa_urls
    intermediates_file: Path | None = None  # intermediate certificates a TSA does not send itself (PEM)
    policy: Literal["required", "best_effort"] = "required"
    username: str | None = None  # HTTP basic authentication at the TSA, with the password from password_file
    password_file: Path | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0

    @field_validator("tsa_urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("https://", "http://")):
                raise ValueError(f"expected http(s) URLs of time-stamping authorities, got {url!r}")
        return value

    @model_validator(mode="after")
    def _trust_anchor(self) -> TimestampConfig:
        if self.tsa_urls and self.ca_file is None:
            raise ValueError(
                "ca_file is required with tsa_urls: the root certificates the TSAs' replies must chain to "
                "(a reply that cannot be checked proves nothing)"
            )
        if (self.username is None) != (self.password_file is None):
            raise ValueError("username and password_file go together (HTTP basic authentication at the TSA)")
        return self


class BackupsConfig(_Section):
    """`[backups]`: Moodle backups (.mbz) in archives; how big one may be, and the command of the `cli` source."""

    max_bytes: Annotated[int, Field(ge=1)] = 20 * 1024**3  # a bigger .mbz fails its job rather than fill the disk
    # The command that makes a backup where archived runs on the Moodle host (backup_source = "cli"): arguments,
    # not a shell line; {courseid}, {cmid} and {destination} (an empty folder the .mbz goes to) are filled in.
    cli_command: list[str] = Field(default_factory=list)
    cli_timeout_seconds: Annotated[float, Field(gt=0)] = 3600.0


class StorageTargetConfig(BaseModel):
    """`[storage.<name>]`: one storage target; keys other than these go to the driver."""

    model_config = ConfigDict(extra="allow")

    driver: str
    tier: Literal["local", "remote-fast", "remote-slow"] = "local"
    required: bool = True

    def driver_options(self) -> dict[str, Any]:
        """The keys meant for the storage driver itself."""
        return dict(self.model_extra or {})


class ConnectorConfig(BaseModel):
    """`[connectors.<name>]`: one event connector; keys other than these go to its driver (webhook, mail, command)."""

    model_config = ConfigDict(extra="allow")

    driver: Literal["webhook", "mail", "command"]
    events: list[str]  # event kinds, with wildcards: "job.*", "storage.write.completed", "*"
    courses: list[int] = Field(default_factory=list)  # only events about jobs of these courses (empty = any)
    categories: list[int] = Field(default_factory=list)  # only courses in these categories, subcategories included
    site_events: bool = False  # with courses/categories: also events about no course (schedule.run, schedule.idle)
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8  # then the event becomes a dead letter
    retry_base_seconds: Annotated[float, Field(ge=0)] = 5.0
    retry_max_seconds: Annotated[float, Field(ge=0)] = 600.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0

    @field_validator("events")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('name at least one event kind, e.g. ["job.failed"] or ["job.*"]')
        for pattern in value:
            if not any(fnmatchcase(kind, pattern) for kind in DURABLE_KINDS):
                raise ValueError(
                    f"{pattern!r} matches no event a connector receives "
                    f"(known: {', '.join(sorted(DURABLE_KINDS))}; wildcards such as job.* work)"
                )
        return value

    def driver_options(self) -> dict[str, Any]:
        """The keys meant for the connector's driver."""
        return dict(self.model_extra or {})


class MandatoryRule(_Section):
    """`[[policy.mandatory]]`: every activity of `type` in `category` (subcategories included) must be archived
    within `within_days` after it closes."""

    category: int
    type: str = "quiz"
    within_days: Annotated[float, Field(ge=0)]

    def describe(self) -> str:
        """The rule in words, as reports and reminders name it."""
        return f"every {self.type} in category {self.category} archived within {self.within_days:g} days of closing"


class PolicyConfig(_Section):
    """`[policy]`: what schedules may archive and what must be archived."""

    categories: list[int] = Field(default_factory=list)  # schedules only select here (subcategories included)
    mandatory: list[MandatoryRule] = Field(default_factory=list)
    idle_days: Annotated[float, Field(ge=0)] = 14.0  # a schedule selecting nothing this long is reported (0: never)
    reminder_hours: Annotated[float, Field(gt=0)] = 24.0  # how often a broken mandatory rule is reminded of


class Config(_Section):
    """The whole configuration file."""

    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    access: AccessConfig = Field(default_factory=AccessConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    workers: WorkersConfig = Field(default_factory=WorkersConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    moodle: MoodleConfig | None = None
    archive: ArchiveConfig = Field(default_factory=ArchiveConfig)
    timestamp: TimestampConfig = Field(default_factory=TimestampConfig)
    backups: BackupsConfig = Field(default_factory=BackupsConfig)
    storage: dict[str, StorageTargetConfig] = Field(default_factory=dict)
    connectors: dict[str, ConnectorConfig] = Field(default_factory=dict)
    presets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # [category_presets.<category id>.<job|driver>]: presets of a category and its subcategories
    category_presets: dict[int, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)

    @property
    def store_path(self) -> Path:
        """The SQLite job store."""
        return self.daemon.state_dir / "archived.sqlite3"

    @property
    def work_dir(self) -> Path:
        """Per-job working folders (payload, unfinished ZIPs)."""
        return self.daemon.state_dir / "work"

    @property
    def lock_path(self) -> Path:
        """The single-instance lock file."""
        return self.daemon.state_dir / "archived.lock"


def _format_validation_error(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against config/archived.example.toml)"
        elif error["type"] == "missing":
            message = "required key is missing"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if "input" in error and not isinstance(error["input"], dict | list):
                message += f" (got {error['input']!r})"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], source: str = "configuration") -> Config:
    """Validate a parsed TOML document."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None


def load_config(path: Path) -> Config:
    """Read and validate a configuration file; errors name the file and the key."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {path} does not exist; start from config/archived.example.toml"
        ) from None
    except PermissionError:
        raise ConfigError(f"configuration file {path} is not readable by this user") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path))


def read_secret(*, file: Path | None, env: str | None, what: str) -> str:
    """Read a secret from a private file or an environment variable.

    A file that others (not owner or group) can read is refused: a token there is as good as published.
    Group access is allowed so that `root:archived 0640` works for a daemon running as user `archived`.
    """
    if env:
        value = os.environ.get(env, "").strip()
        if value:
            return value
        if file is None:
            raise ConfigError(f"{what}: environment variable {env} is not set or empty")
    assert file is not None
    try:
        info = file.stat()
    except FileNotFoundError:
        raise ConfigError(f"{what}: secret file {file} does not exist") from None
    if info.st_mode & stat.S_IRWXO:
        raise ConfigError(
            f"{what}: secret file {file} is readable by others (mode {stat.filemode(info.st_mode)}); "
            f"run: chmod o-rwx {file}"
        )
    try:
        value = file.read_text(encoding="utf-8").strip()
    except PermissionError:
        raise ConfigError(f"{what}: secret file {file} is not readable by the daemon's user") from None
    if not value:
        raise ConfigError(f"{what}: secret file {file} is empty")
    return value
