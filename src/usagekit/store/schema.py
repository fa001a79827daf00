"""The database schema, shared by every backend (SQLAlchemy Core)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
# SQLite makes an INTEGER PRIMARY KEY the rowid; PostgreSQL wants a 64-bit identity.
Id = BigInteger().with_variant(Integer, "sqlite")

tenants = Table(
    "tenants",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("created_ms", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", BigInteger, nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("subject", String(256)),
    Column("name", String(128)),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
)

# Server-side signing keys (e.g. for profile access tokens), made once per database.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)

meters = Table(
    "meters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("slug", String(64), nullable=False),
    Column("event_type", String(256), nullable=False),
    Column("aggregation", String(16), nullable=False),
    Column("value_property", String(256)),
    Column("dimensions", Text, nullable=False),
    Column("unit", String(64)),
    Column("description", Text),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "slug"),
    Index("ix_meters_type", "tenant_id", "event_type"),
)

meter_groups = Table(
    "meter_groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("meter_id", BigInteger, nullable=False),
    Column("key", Text, nullable=False),
    UniqueConstraint("meter_id", "key"),
)

rollups = Table(
    "rollups",
    metadata,
    Column("meter_id", BigInteger, nullable=False),
    Column("level", Integer, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("group_id", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    # The sum is (sum_carry * 10**18 + sum_units) * 10**9 + sum_nanos: see store.rollups.
    Column("sum_carry", BigInteger, nullable=False, server_default="0"),
    Column("sum_units", BigInteger, nullable=False),
    Column("sum_nanos", BigInteger, nullable=False),
    Column("min_value", Float),
    Column("max_value", Float),
    Column("last_time", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_value", Float),
    PrimaryKeyConstraint("meter_id", "level", "bucket", "group_id"),
    sqlite_with_rowid=False,
)

distincts = Table(
    "distincts",
    metadata,
    Column("meter_id", BigInteger, nullable=False),
    Column("level", Integer, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("group_id", BigInteger, nullable=False),
    Column("value", Text, nullable=False),
    Column("first_time", BigInteger, nullable=False),
    Column("last_time", BigInteger, nullable=False),
    PrimaryKeyConstraint("meter_id", "level", "bucket", "group_id", "value"),
    sqlite_with_rowid=False,
)

# Per value and UTC month, a bitmap of the days it was seen (bit d-1 = day d): the
# fast path for unique counts over whole UTC days (core.month_bitmaps).
distinct_months = Table(
    "distinct_months",
    metadata,
    Column("meter_id", BigInteger, nullable=False),
    Column("group_id", BigInteger, nullable=False),
    Column("value", Text, nullable=False),
    Column("month", Integer, nullable=False),
    Column("days", BigInteger, nullable=False),
    PrimaryKeyConstraint("meter_id", "group_id", "value", "month"),
    sqlite_with_rowid=False,
)

events = Table(
    "events",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("source", String(256), nullable=False),
    Column("event_id", String(256), nullable=False),
    Column("type", String(256), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("hour", BigInteger, nullable=False),  # time_ms // 3,600,000: see ix_events_subject_hour
    Column("data", Text, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("voided_ms", BigInteger),
    # Dedup (ingest), conflict lookups and voids.
    UniqueConstraint("tenant_id", "source", "event_id", name="uq_events_key"),
    # Rebuilds, backfills and raw reads of one event type; listing and export by type.
    Index("ix_events_type_time", "tenant_id", "type", "time_ms"),
    # Listing and export of all types, in time order.
    Index("ix_events_time", "tenant_id", "time_ms"),
    # A subject's events: one seek per (hour, subject) of the range (store.events). Hour
    # first, so a live feed's inserts land in the current hour's few pages instead of
    # one random page per event, as a (tenant, subject, time) index would (ingest ran
    # at half the speed with one).
    Index("ix_events_subject_hour", "tenant_id", "hour", "subject"),
)

failures = Table(
    "failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("error", Text, nullable=False),
    Column("record", Text, nullable=False),
    # A profile's processing failures carry the record's key, so a re-send is counted once.
    Column("ref", String(520)),
    # Whose record it is (the subject it names, or the subject-bound key that sent it):
    # a subject-bound key sees and fixes only its subject's failures. Null: nobody's.
    Column("subject", String(256)),
    Index("ix_failures_tenant", "tenant_id", "id"),
    Index("ix_failures_ref", "tenant_id", "channel", "ref"),
    Index("ix_failures_subject", "tenant_id", "subject", "id"),
)

# Per tenant, the known projects, resources and users (AMIE semantics): where a tenant
# has entries of a kind, a record naming an unknown one of that kind fails processing.
registry = Table(
    "registry",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(256), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "kind", "name"),
)

# Per tenant and received hour (UTC), what ingest did with the records it was sent
# (store.ingest_stats): the dashboard's ingestion health.
ingest_stats = Table(
    "ingest_stats",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("hour", BigInteger, nullable=False),  # received_ms rounded down to the hour
    Column("accepted", BigInteger, nullable=False),
    Column("duplicates", BigInteger, nullable=False),
    Column("conflicts", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "hour"),
)

# -- Limits, alerts and webhooks (issue 16) --

# A limit on a meter's usage per period: per subject or for the whole tenant, optionally
# narrowed by dimension filters. Numbers are exact decimal text (core.numbers).
limits = Table(
    "limits",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("slug", String(64), nullable=False),
    Column("meter_id", BigInteger, nullable=False),
    Column("period", String(16), nullable=False),  # day, week, month, rolling_7d, rolling_30d
    Column("tz", String(64), nullable=False),
    Column("limit_value", Text, nullable=False),
    Column("thresholds", Text, nullable=False),  # JSON list of percents, ascending
    Column("scope", String(8), nullable=False),  # subject or tenant
    Column("filters", Text, nullable=False),  # JSON {dimension: [values]}
    Column("description", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    # Event times stored before the limit began counting (store.limit_state).
    Column("backlog_lo", BigInteger),
    Column("backlog_hi", BigInteger),
    # Bumped at every redefinition: older entries in limit_sheets no longer count.
    Column("epoch", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("tenant_id", "slug", name="uq_limits_tenant_slug"),
    Index("ix_limits_meter", "meter_id"),
)

# Each subject's kept usage of every limit on a meter, in one row (store.limit_sheets):
# one write per subject a commit touches, whatever the number of limits.
limit_sheets = Table(
    "limit_sheets",
    metadata,
    Column("meter_id", BigInteger, nullable=False),
    Column("subject", String(256), nullable=False),
    Column("sheet", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("meter_id", "subject"),
)

# The archive of kept usage: calendar periods older than a subject's latest, moved out
# of its sheet when a newer one starts. Per limit, subject ('' for a tenant-wide limit)
# and period: the usage so far, the thresholds it has crossed (a JSON list of percents), and
# the aggregate it was read from (a JSON cell; null for unique counts, kept as members).
limit_state = Table(
    "limit_state",
    metadata,
    Column("limit_id", BigInteger, nullable=False),
    Column("subject", String(256), nullable=False),
    Column("period_start", BigInteger, nullable=False),
    Column("period_end", BigInteger, nullable=False),
    Column("usage", Text, nullable=False),
    Column("crossed", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("cell", Text),
    PrimaryKeyConstraint("limit_id", "subject", "period_start"),
)

# The distinct values a unique-count limit has seen per subject and period.
limit_members = Table(
    "limit_members",
    metadata,
    Column("limit_id", BigInteger, nullable=False),
    Column("subject", String(256), nullable=False),
    Column("period_start", BigInteger, nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("limit_id", "subject", "period_start", "value"),
)

# The outbox: one row per threshold crossed or cleared, written in the transaction that
# moved the usage; webhook deliveries are made from it, in id order.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("type", String(40), nullable=False),  # limit.threshold_crossed / _cleared
    Column("limit_id", BigInteger, nullable=False),
    Column("limit_slug", String(64), nullable=False),
    Column("subject", String(256)),  # None for a tenant-wide limit
    Column("threshold", Text, nullable=False),
    Column("usage", Text, nullable=False),
    Column("limit_value", Text, nullable=False),
    Column("period_start", BigInteger, nullable=False),
    Column("period_end", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_alerts_tenant", "tenant_id", "id"),
)

# Where alerts are sent. The signing secret is never stored: it is derived from the
# server secret, the endpoint id and secret_version (rotating bumps the version).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("description", Text),
    Column("event_types", Text),  # JSON list; None: every type
    Column("secret_version", Integer, nullable=False),
    Column("enabled", Integer, nullable=False),  # 0/1
    Column("disabled_reason", Text),
    Column("failing_since_ms", BigInteger),
    # Alerts up to this id are fanned out to it (or were made before it existed).
    Column("last_alert_id", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_webhook_endpoints_tenant", "tenant_id"),
)

# One alert for one endpoint: delivered at least once, retried with backoff until due.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", BigInteger, nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("alert_id", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger),  # None once delivered or given up
    Column("lease_until_ms", BigInteger),  # a sender working on it until then
    Column("created_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger),
    UniqueConstraint("endpoint_id", "alert_id", name="uq_webhook_deliveries_alert"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_ms"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    # The retention scan: delivered before a time (services.delivery).
    Index("ix_webhook_deliveries_delivered", "status", "delivered_ms"),
)

# Every attempt of a delivery: what the receiver answered, and how fast.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("status_code", Integer),  # None: no answer (timeout, refused, ...)
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text),
    Column("response", Text),  # the first bytes of the body
    Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)
