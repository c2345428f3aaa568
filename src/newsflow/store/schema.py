"""The database schema, as SQLAlchemy Core tables.

Timestamps are naive UTC (see newsflow.clock).  Change a table here *and* add an
Alembic revision in newsflow/migrations/versions.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

TS = sa.DateTime()

sources = sa.Table(
    "sources", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_attempt_at", TS),
    sa.Column("last_success_at", TS),
    sa.Column("last_http_status", sa.Integer),
    sa.Column("last_status", sa.String(20)),
    sa.Column("last_new_item_at", TS),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("feed_problems", sa.Text),
    sa.Column("next_due_at", TS),
    sa.Column("window_end", TS),  # PubMed/Europe PMC: date the last successful search covered
    sa.Column("last_entries", sa.Integer),
    sa.Column("created_at", TS),
    sa.Column("body_hash", sa.String(64)),  # sha256 of the last parsed body; same body → no parse
)

fetches = sa.Table(
    "fetches", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(200), nullable=False, index=True),
    sa.Column("url", sa.Text),
    sa.Column("started_at", TS, nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("bytes", sa.Integer),
    sa.Column("duration_ms", sa.Float),
    sa.Column("entries", sa.Integer),
    sa.Column("new", sa.Integer),
    sa.Column("error", sa.Text),
)

papers = sa.Table(
    "papers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("doi", sa.String(255), unique=True),
    sa.Column("pmid", sa.String(20), unique=True),
    sa.Column("pmcid", sa.String(20), unique=True),
    sa.Column("fingerprint", sa.String(64), unique=True),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("abstract_sections", sa.JSON, nullable=False),
    sa.Column("authors", sa.JSON, nullable=False),
    sa.Column("journal", sa.Text),
    sa.Column("journal_abbrev", sa.Text),
    sa.Column("volume", sa.String(50)),
    sa.Column("issue", sa.String(50)),
    sa.Column("pages", sa.String(50)),
    sa.Column("pub_date", sa.String(10)),
    sa.Column("publication_types", sa.JSON, nullable=False),
    sa.Column("mesh_terms", sa.JSON, nullable=False),
    sa.Column("keywords", sa.JSON, nullable=False),
    sa.Column("coi_statement", sa.Text),
    sa.Column("grants", sa.JSON, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("language", sa.String(20)),
    sa.Column("is_preprint", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updates", sa.JSON, nullable=False),
    sa.Column("retracted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("corrected", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("field_sources", sa.JSON, nullable=False),
    sa.Column("relevance", sa.JSON),  # {relevant, score, reasons, population}
    sa.Column("relevant", sa.Boolean, index=True),
    sa.Column("relevance_override", sa.Boolean),
    sa.Column("design", sa.String(32), index=True),
    sa.Column("evidence_level", sa.String(8)),
    sa.Column("extractor_version", sa.String(20)),
    sa.Column("enrich_status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("enrich_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("enrich_next_at", TS),
    sa.Column("enrich_error", sa.Text),
    sa.Column("content_hash", sa.String(64)),
    sa.Column("processed_hash", sa.String(64)),  # content_hash the later stages last saw
    sa.Column("retraction_banner", sa.Text),  # the retraction/correction banner drafts were given
    sa.Column("created_at", TS, nullable=False, index=True),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_papers_enrich_due", "enrich_status", "enrich_next_at"),
)

paper_sources = sa.Table(
    "paper_sources", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("source", sa.String(200), nullable=False, index=True),
    sa.Column("entry_id", sa.String(512), nullable=False),
    sa.Column("entry_hash", sa.String(64)),
    sa.Column("first_seen", TS, nullable=False),
    sa.Column("last_seen", TS, nullable=False),
    sa.UniqueConstraint("source", "entry_id"),
)

facts = sa.Table(
    "facts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("normalized", sa.JSON),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("span_start", sa.Integer, nullable=False),
    sa.Column("span_end", sa.Integer, nullable=False),
    sa.Column("sentence", sa.Text, nullable=False),
    sa.Column("extractor_version", sa.String(20)),
    sa.UniqueConstraint("paper_id", "name"),
)

drafts = sa.Table(
    "drafts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("paper_id", sa.Integer, sa.ForeignKey("papers.id", ondelete="CASCADE"),
              nullable=False, unique=True),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("template_name", sa.String(100), nullable=False),
    sa.Column("template_version", sa.String(64), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body_markdown", sa.Text, nullable=False),
    sa.Column("checks", sa.JSON, nullable=False),
    sa.Column("readability", sa.JSON, nullable=False),
    sa.Column("provenance", sa.JSON, nullable=False),
    sa.Column("blocking_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("human_edited", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("assignee", sa.String(100), index=True),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", TS),
    sa.Column("embargo_until", TS),
    sa.Column("banner", sa.Text),
    sa.Column("reject_reason", sa.Text),
    sa.Column("approved_by", sa.String(100)),
    sa.Column("approved_at", TS),
    sa.Column("published_at", TS),
    sa.Column("created_at", TS, nullable=False, index=True),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_drafts_state_created", "state", "created_at", "id"),
    sa.Index("ix_drafts_state_priority", "state", "priority", "id"),
)

draft_versions = sa.Table(
    "draft_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # auto | edit | rerender
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body_markdown", sa.Text, nullable=False),
    sa.Column("checks", sa.JSON, nullable=False),
    sa.Column("readability", sa.JSON, nullable=False),
    sa.Column("template_version", sa.String(64)),
    sa.Column("author", sa.String(100)),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("draft_id", "version"),
)

comments = sa.Table(
    "comments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("author", sa.String(100), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

audit_events = sa.Table(
    "audit_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("draft_id", sa.Integer, index=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("version", sa.Integer),  # the draft's version after this event
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Index("ix_login_failures_user_addr_at", "username", "address", "at"),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("email", sa.String(255)),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_login_at", TS),
)

leases = sa.Table(
    "leases", metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("acquired_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False, index=True),
)

# One row per daemon job run, from every daemon: the source of /metrics job durations.
job_runs = sa.Table(
    "job_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job", sa.String(255), nullable=False),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # ok | failed | skipped
    sa.Column("items", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Index("ix_job_runs_job_started", "job", "started_at"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("draft_id", sa.Integer, index=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),  # pending|delivered|failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS),
    sa.Column("last_http_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS),
    sa.Column("event_id", sa.Integer, index=True),  # webhook_events.id
    sa.Column("last_attempt_at", TS),
)

published_articles = sa.Table(
    "published_articles", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id", ondelete="CASCADE"),
              nullable=False, unique=True),
    sa.Column("slug", sa.String(200), nullable=False, unique=True),
    sa.Column("status", sa.String(20), nullable=False),  # live | withdrawn
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("paths", sa.JSON, nullable=False),
    sa.Column("first_published_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("draft_version", sa.Integer),
    sa.Column("article", sa.JSON),  # the snapshot the files and the feed entry were made from
    sa.Column("withdrawn_reason", sa.Text),
    sa.Column("withdrawn_at", TS),
)

digests = sa.Table(
    "digests", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("recipient", sa.String(255), nullable=False),
    sa.Column("period_key", sa.String(40), nullable=False),
    sa.Column("sent_at", TS, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="sent"),  # sending|sent|failed
    sa.Column("items", sa.Integer),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("recipient", "period_key"),
)

# One row per approved/published/retracted event; publish/webhooks.py fans each out into one
# webhook_deliveries row per configured URL, so callers need only a store to raise an event.
webhook_events = sa.Table(
    "webhook_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("draft_id", sa.Integer, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("dispatched_at", TS, index=True),
)
