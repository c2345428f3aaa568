"""Every setting newsflow has, in one table, and the loaders for both config files.

Order of precedence: built-in default < config/newsflow.toml < environment
(``NEWSFLOW_<SECTION>__<KEY>``, e.g. ``NEWSFLOW_HTTP__TIMEOUT=5``) < explicit
overrides passed by the caller.  Secrets are read only from the environment:
a secret in a TOML file is an error, so it never lands in a repository.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsflow.errors import ConfigError
from newsflow.models import SourceConfig

PACKAGE_ROOT = Path(__file__).resolve().parent
# In a checkout (or editable install) config/ and templates/ sit beside src/.
PROJECT_ROOT = PACKAGE_ROOT.parent.parent
BUILTIN_CONFIG_DIR = PROJECT_ROOT / "config"
BUILTIN_TEMPLATES_DIR = PROJECT_ROOT / "templates"


@dataclass(frozen=True)
class Setting:
    name: str  # dotted: "section.key" or "key"
    default: Any
    help: str
    type: type = str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    secret: bool = False  # environment only, never printed
    many: bool = False  # a comma-separated list, each item one of ``choices``


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "", "SQLAlchemy URL. Empty means a SQLite file in data_dir."),
    Setting("data_dir", "data", "Directory for the SQLite database and other local state."),
    Setting("sources_file", "sources.toml",
            "Sources list; a relative path is read from the config file's directory."),
    Setting("templates_dir", "",
            "A site's own template folder; its files override the built-in templates."),
    Setting("log_format", "text", "Log line format.", choices=("text", "json")),
    Setting("log_level", "INFO", "Log level.",
            choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("http.concurrency", 20, "Requests in flight at once, over all hosts.", int, minimum=1),
    Setting("http.per_host_concurrency", 4, "Requests in flight at once to one host.", int,
            minimum=1),
    Setting("http.timeout", 20.0, "Seconds to wait for a read, write or pool slot.", float,
            minimum=0.1),
    Setting("http.connect_timeout", 5.0, "Seconds to wait for a connection.", float, minimum=0.1),
    Setting("http.total_timeout", 60.0, "Seconds one fetch may take in all, retries included.",
            float, minimum=1),
    Setting("http.max_bytes", 10_000_000,
            "Largest response body accepted, counted after decompression.", int, minimum=1024),
    Setting("http.max_redirects", 5, "Redirects followed before giving up.", int, minimum=0),
    Setting("http.retries", 3, "Retries of one request on 429, 5xx or a network error.", int,
            minimum=0),
    Setting("http.backoff_base", 1.0, "First retry delay in seconds; doubles each retry.", float,
            minimum=0),
    Setting("http.backoff_max", 30.0, "Longest delay between retries, Retry-After included.",
            float, minimum=0),
    Setting("http.user_agent", "newsflow/0.1 (+https://example.org/newsflow; mailto:news@example.org)",
            "User-Agent header; keep a contact e-mail in it."),
    Setting("http.contact_email", "news@example.org",
            "Contact address sent to Crossref (mailto) and NCBI (email)."),
    Setting("ingest.parse_processes", -1,
            "Worker processes that parse fetched feeds and API responses; -1 means one per "
            "CPU core (at most 4), 0 parses in a thread of the running process.", int,
            minimum=-1),
    Setting("sources.failure_backoff_max", 86400,
            "Longest interval, in seconds, between retries of a failing source.", int, minimum=60),
    Setting("ncbi.api_key", "", "NCBI E-utilities key (environment only: NEWSFLOW_NCBI__API_KEY).",
            secret=True),
    Setting("ncbi.tool", "newsflow", "The tool= parameter sent to E-utilities."),
    Setting("ncbi.email", "news@example.org", "The email= parameter sent to E-utilities."),
    Setting("ncbi.base_url", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
            "E-utilities endpoint."),
    Setting("ncbi.first_window_days", 7,
            "How far back the first PubMed search of a source reaches.", int, minimum=1),
    Setting("ncbi.max_results", 200, "Most PMIDs taken from one esearch.", int, minimum=1),
    Setting("europepmc.base_url", "https://www.ebi.ac.uk/europepmc/webservices/rest",
            "Europe PMC REST endpoint."),
    Setting("europepmc.page_size", 100, "Results per Europe PMC page.", int, minimum=1),
    Setting("europepmc.max_pages", 5, "Most pages read from one Europe PMC search.", int,
            minimum=1),
    Setting("crossref.base_url", "https://api.crossref.org", "Crossref REST endpoint."),
    Setting("enrich.max_attempts_before_slow", 5,
            "Failed enrichment attempts before retries slow to the longest interval.", int,
            minimum=1),
    Setting("enrich.enabled", True,
            "Look papers up in PubMed, Europe PMC, Crossref and landing pages when they lack "
            "an abstract or key metadata.", bool),
    Setting("enrich.steps", "pubmed,europepmc,crossref,landing",
            "Enrichment lookups to try, comma-separated; they always run in this order. "
            "'landing' reads the publisher's article page.",
            choices=("pubmed", "europepmc", "crossref", "landing"), many=True),
    Setting("enrich.retry_base", 900,
            "First wait, in seconds, before retrying a paper that could not be enriched; "
            "doubles each attempt.", int, minimum=1),
    Setting("enrich.retry_max", 86400, "Longest wait, in seconds, between enrichment retries.",
            int, minimum=60),
    Setting("web.host", "127.0.0.1", "Address the web UI listens on."),
    Setting("web.port", 8080, "Port the web UI listens on.", int, minimum=1),
    Setting("web.secret_key", "",
            "Session signing key (environment only: NEWSFLOW_WEB__SECRET_KEY).", secret=True),
    Setting("web.https", False, "Mark cookies Secure; set when served over HTTPS.", bool),
    Setting("web.page_size", 50, "Drafts per queue page.", int, minimum=1),
    Setting("web.login_attempts", 5, "Failed logins allowed per user and address per window.",
            int, minimum=1),
    Setting("web.login_window", 300, "Login throttling window in seconds.", int, minimum=1),
    Setting("daemon.jitter", 0.1, "Random extra delay on each source poll, as a share of its "
            "interval.", float, minimum=0),
    Setting("daemon.lease_seconds", 300, "How long a work claim lasts before others may take it; "
            "a running daemon renews its claims, so this only bounds how long a crashed "
            "daemon's work waits.", int, minimum=1),
    Setting("daemon.misfire_grace", 300, "Seconds a late job may still run.", int, minimum=1),
    Setting("daemon.shutdown_timeout", 8.0, "Seconds to finish in-flight work on SIGTERM.", float,
            minimum=0.5),
    Setting("daemon.tick", 15, "Seconds between checks for due work.", int, minimum=1),
    Setting("daemon.workers", 2, "Papers one daemon processes at once.", int, minimum=1),
    Setting("daemon.batch_size", 10, "Papers claimed at a time by one worker.", int, minimum=1),
    Setting("daemon.metrics_host", "127.0.0.1", "Address of the daemon's own /metrics and "
            "/healthz listener."),
    Setting("daemon.metrics_port", 0, "Port of the daemon's own /metrics and /healthz "
            "listener; 0 turns it off (the web app serves them too).", int, minimum=0),
    Setting("daemon.job_history_days", 14, "Days of job runs kept for /metrics.", int,
            minimum=1),
    Setting("publish.output_dir", "site", "Where published articles are written."),
    Setting("publish.base_url", "https://example.org/news", "Public URL of the published site."),
    Setting("publish.filename", "{date}-{slug}",
            "File name pattern (without extension); fields: date, slug, id."),
    Setting("publish.feed_title", "Skin research news", "Title of the Atom feed."),
    Setting("publish.webhook_urls", "", "Comma-separated URLs that receive event webhooks."),
    Setting("publish.webhook_secret", "",
            "HMAC key for webhooks (environment only: NEWSFLOW_PUBLISH__WEBHOOK_SECRET).",
            secret=True),
    Setting("publish.webhook_timeout", 10.0, "Seconds one webhook POST may take.", float,
            minimum=0.1),
    Setting("publish.webhook_max_attempts", 8,
            "Attempts per webhook delivery before it is marked failed.", int, minimum=1),
    Setting("publish.webhook_backoff", 30.0,
            "Seconds before the first webhook retry; doubles each retry.", float, minimum=0),
    Setting("publish.webhook_backoff_max", 21600.0, "Longest wait between webhook retries.",
            float, minimum=0),
    Setting("publish.feed_author", "newsflow editors", "Author name of the Atom feed."),
    Setting("publish.feed_entries", 50, "Most recent articles listed in the Atom feed.", int,
            minimum=1),
    Setting("smtp.host", "", "SMTP server for editor e-mail; empty disables e-mail."),
    Setting("smtp.port", 25, "SMTP port.", int, minimum=1),
    Setting("smtp.username", "", "SMTP user."),
    Setting("smtp.password", "", "SMTP password (environment only: NEWSFLOW_SMTP__PASSWORD).",
            secret=True),
    Setting("smtp.starttls", False, "Use STARTTLS.", bool),
    Setting("smtp.sender", "newsflow@example.org", "From address of editor e-mail."),
    Setting("digest.every_hours", 24, "Hours between editor digests.", int, minimum=1),
    Setting("digest.quiet_after_hours", 168,
            "A source with no new item for this long is reported as quiet.", int, minimum=1),
    Setting("digest.roles", "admin,editor",
            "Comma-separated user roles that receive the digest (users with an e-mail address)."),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}
ENV_PREFIX = "NEWSFLOW_"


@dataclass
class Settings:
    """The effective settings; read values with ``settings['http.timeout']``."""

    values: dict[str, Any]
    config_path: Path | None
    sources: list[SourceConfig] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def config_dir(self) -> Path:
        return self.config_path.parent if self.config_path else BUILTIN_CONFIG_DIR

    @property
    def database_url(self) -> str:
        url = str(self.values["database_url"])
        if url:
            return url
        return f"sqlite:///{Path(self.values['data_dir']).resolve() / 'newsflow.db'}"

    @property
    def sources_path(self) -> Path:
        p = Path(self.values["sources_file"])
        return p if p.is_absolute() else self.config_file(str(p))

    def config_file(self, name: str) -> Path:
        """A data file such as drugs.toml: the site's copy first, then the built-in one."""
        own = self.config_dir / name
        return own if own.exists() else BUILTIN_CONFIG_DIR / name

    def public(self) -> dict[str, Any]:
        """The settings safe to print: secrets show only whether they are set."""
        out: dict[str, Any] = {}
        for s in SETTINGS:
            v = self.values[s.name]
            out[s.name] = ("(set)" if v else "(not set)") if s.secret else v
        out["database_url"] = _redact_url(self.database_url)
        return out


def _redact_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):([^@]+)@", r"://\1:***@", url)


def _coerce(setting: Setting, raw: Any, *, where: str) -> Any:
    key = setting.name
    try:
        if setting.type is bool:
            if isinstance(raw, bool):
                value: Any = raw
            elif isinstance(raw, str) and raw.lower() in ("1", "true", "yes", "on"):
                value = True
            elif isinstance(raw, str) and raw.lower() in ("0", "false", "no", "off", ""):
                value = False
            else:
                raise ValueError(raw)
        elif setting.type is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            value = int(raw)
        elif setting.type is float:
            if isinstance(raw, bool):
                raise ValueError(raw)
            value = float(raw)
        else:
            if not isinstance(raw, str):
                raise ValueError(raw)
            value = raw
    except (TypeError, ValueError):
        raise ConfigError(f"{raw!r} is not a valid {setting.type.__name__}", path=where, key=key,
                          allowed=f"a {setting.type.__name__}") from None
    if setting.many and setting.choices is not None:
        items = [item.strip() for item in value.split(",") if item.strip()]
        bad = [item for item in items if item not in setting.choices]
        if bad:
            raise ConfigError(f"{bad[0]!r} is not allowed", path=where, key=key,
                              allowed="a comma-separated list of "
                                      + ", ".join(map(str, setting.choices)))
        return ",".join(items)
    if setting.choices is not None and value not in setting.choices:
        raise ConfigError(f"{value!r} is not allowed", path=where, key=key,
                          allowed=", ".join(map(str, setting.choices)))
    if setting.minimum is not None and value < setting.minimum:
        raise ConfigError(f"{value!r} is too small", path=where, key=key,
                          allowed=f"a number >= {setting.minimum:g}")
    return value


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"not valid TOML: {e}", path=str(path)) from None
    except OSError as e:
        raise ConfigError(f"cannot be read: {e.strerror}", path=str(path)) from None


def default_config_path(cwd: Path | None = None) -> Path | None:
    env = os.environ.get("NEWSFLOW_CONFIG")
    if env:
        return Path(env)
    local = (cwd or Path.cwd()) / "config" / "newsflow.toml"
    if local.exists():
        return local
    builtin = BUILTIN_CONFIG_DIR / "newsflow.toml"
    return builtin if builtin.exists() else None


def load_settings(
    config_path: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    load_sources: bool = True,
) -> Settings:
    """Read, merge and validate every setting; raise ConfigError on anything unknown or bad."""
    env = os.environ if environ is None else environ
    path = Path(config_path) if config_path else default_config_path()
    values = {s.name: s.default for s in SETTINGS}
    origins = {s.name: "default" for s in SETTINGS}
    if path is not None:
        where = str(path)
        for name, raw in _flatten(_read_toml(path)).items():
            setting = SETTINGS_BY_NAME.get(name)
            if setting is None:
                section = name.split(".")[0] + "." if "." in name else ""
                near = sorted(s for s in SETTINGS_BY_NAME if s.startswith(section)) if section \
                    else sorted(s for s in SETTINGS_BY_NAME if "." not in s)
                raise ConfigError("unknown setting", path=where, key=name,
                                  allowed=", ".join(near))
            if setting.secret:
                env_name = ENV_PREFIX + name.upper().replace(".", "__")
                raise ConfigError(f"is a secret; set it in the environment as {env_name}, "
                                  "not in a file", path=where, key=name)
            values[name] = _coerce(setting, raw, where=where)
            origins[name] = where
    for s in SETTINGS:
        env_name = ENV_PREFIX + s.name.upper().replace(".", "__")
        if env_name in env:
            values[s.name] = _coerce(s, env[env_name], where=f"environment {env_name}")
            origins[s.name] = "environment"
    for name, raw in (overrides or {}).items():
        setting = SETTINGS_BY_NAME.get(name)
        if setting is None:
            raise ConfigError("unknown setting", path="override", key=name)
        values[name] = _coerce(setting, raw, where="override")
        origins[name] = "override"
    settings = Settings(values=values, config_path=path, origins=origins)
    if load_sources:
        settings.sources = load_sources_file(settings.sources_path)
    return settings


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SOURCE_KEYS = ("name", "kind", "url", "query", "base_url", "every", "enabled", "tags")
SOURCE_KINDS = ("feed", "pubmed", "europepmc")


def parse_duration(text: str) -> int:
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m or int(m.group(1)) == 0:
        raise ValueError(text)
    return int(m.group(1)) * _UNIT[m.group(2)]


def load_sources_file(path: Path) -> list[SourceConfig]:
    data = _read_toml(path)
    where = str(path)
    unknown_top = set(data) - {"source"}
    if unknown_top:
        raise ConfigError("unknown top-level key", path=where, key=sorted(unknown_top)[0],
                          allowed="[[source]] tables")
    tables = data.get("source", [])
    if not isinstance(tables, list):
        raise ConfigError("must be an array of tables ([[source]])", path=where, key="source")
    seen: set[str] = set()
    out: list[SourceConfig] = []
    for i, t in enumerate(tables):
        label = f"source[{i}]"

        def bad(key: str, msg: str, allowed: str | None = None, _label: str = label) -> ConfigError:
            return ConfigError(msg, path=where, key=f"{_label}.{key}", allowed=allowed)

        for k in t:
            if k not in SOURCE_KEYS:
                raise bad(k, "unknown key", ", ".join(SOURCE_KEYS))
        name = t.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("name", "is required and must be a non-empty string")
        label = f"source '{name}'"
        if name in seen:
            raise bad("name", "is used by another source; names must be unique")
        seen.add(name)
        kind = t.get("kind")
        if kind not in SOURCE_KINDS:
            raise bad("kind", f"{kind!r} is not a source kind", ", ".join(SOURCE_KINDS))
        url, query, base_url = t.get("url"), t.get("query"), t.get("base_url")
        for key, val in (("url", url), ("query", query), ("base_url", base_url)):
            if val is not None and not isinstance(val, str):
                raise bad(key, "must be a string")
        if kind == "feed":
            if not url or not re.match(r"^https?://", url):
                raise bad("url", "is required for a feed and must start with http:// or https://")
            if query is not None:
                raise bad("query", "is only for pubmed and europepmc sources")
        else:
            if not query:
                raise bad("query", f"is required for a {kind} source")
            if url is not None:
                raise bad("url", "is only for feeds; use base_url to change the API endpoint")
        if base_url is not None and not re.match(r"^https?://", base_url):
            raise bad("base_url", "must start with http:// or https://")
        every = t.get("every", "1h")
        try:
            every_s = parse_duration(every)
        except ValueError:
            raise bad("every", f"{every!r} is not an interval",
                      'a whole number followed by s, m, h or d, such as "45s", "30m" or "6h"') \
                from None
        enabled = t.get("enabled", True)
        if not isinstance(enabled, bool):
            raise bad("enabled", f"{enabled!r} is not a boolean", "true, false")
        tags = t.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(x, str) for x in tags):
            raise bad("tags", "must be a list of strings")
        out.append(SourceConfig(name=name, kind=kind, url=url, query=query, base_url=base_url,
                                every_seconds=every_s, enabled=enabled, tags=tuple(tags)))
    return out

