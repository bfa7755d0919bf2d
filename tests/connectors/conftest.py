"""An "external" database for the SQL connector's tests: a SQLite file always, and a second, real PostgreSQL
database beside the test database when the suite runs on PostgreSQL (``.ci/run`` creates it; the fixture creates it
too if missing). On a SQLite-only run the PostgreSQL cases skip, unless DSAR_REQUIRE_SERVICES is set (CI), when they
fail instead: a green CI must have run them."""

import os
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import psycopg2
import pytest
import sqlalchemy as sa
from django.conf import settings
from psycopg2 import sql as pgsql

EXTERNAL_URL_ENV = "DSAR_TEST_EXTERNAL_CRM_URL"

metadata = sa.MetaData()
# Deliberately not the demo CRM's names: an outside system with its own naming.
customer = sa.Table(
    "customer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_ref", sa.String(20), nullable=False),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("email_address", sa.String(254), nullable=False),
    sa.Column("mobile", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.String(100), nullable=False),
)
sales_order = sa.Table(
    "sales_order",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customer.id"), nullable=False),
    sa.Column("order_no", sa.String(20), nullable=False),
    sa.Column("placed_on", sa.Date, nullable=False),
    sa.Column("total", sa.Numeric(10, 2), nullable=False),
)
order_item = sa.Table(
    "order_item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("sales_order.id"), nullable=False),
    sa.Column("sku", sa.String(20), nullable=False),
)
web_event = sa.Table(
    "web_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
)
risk_score = sa.Table(
    "risk_score",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("score", sa.Numeric(4, 3), nullable=False),
)

PEOPLE = [
    (1, "C-1001", "Alan Turing", "Alan@Demo.Example", "07700900001"),
    (2, "C-1002", "Grace Hopper", "grace@demo.example", "07700900002"),
    (3, "C-1003", "Katherine Johnson", "katherine@demo.example", "07700900003"),
]
EVENTS_FOR_ALAN = 2500


def _fill(engine: sa.Engine) -> None:
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            customer.insert(),
            [
                {"id": i, "customer_ref": ref, "full_name": n, "email_address": e, "mobile": m, "password_hash": "x"}
                for i, ref, n, e, m in PEOPLE
            ],
        )
        orders = [
            {
                "id": 10 * person + k,
                "customer_id": person,
                "order_no": f"SO-{person}-{k}",
                "placed_on": date(2026, k, 1),
                "total": Decimal(f"{person}{k}.50"),
            }
            for person in (1, 2, 3)
            for k in (1, 2, 3)
        ]
        connection.execute(sales_order.insert(), orders)
        connection.execute(
            order_item.insert(),
            [{"order_id": order["id"], "sku": f"SKU-{order['id']}-{n}"} for order in orders for n in (1, 2)],
        )
        connection.execute(
            web_event.insert(),
            [
                {"customer_id": 1, "seen_at": datetime(2026, 1, 1, 0, 0, n % 60), "ip": f"192.0.2.{n % 250}"}
                for n in range(EVENTS_FOR_ALAN)
            ]
            + [{"customer_id": 2, "seen_at": datetime(2026, 2, 2), "ip": "198.51.100.7"}],
        )
        connection.execute(risk_score.insert(), [{"customer_id": p, "score": Decimal("0.250")} for p in (1, 2, 3)])


def postgres_url() -> str:
    """The second PostgreSQL database: DSAR_TEST_EXTERNAL_CRM_URL, or ``<the portal's database>_crm`` on the same
    server (dsar_portal_crm in CI)."""
    if os.environ.get(EXTERNAL_URL_ENV):
        return os.environ[EXTERNAL_URL_ENV]
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        if os.environ.get("DSAR_REQUIRE_SERVICES"):
            pytest.fail("DSAR_REQUIRE_SERVICES is set but DATABASE_URL does not point at PostgreSQL")
        pytest.skip("the external PostgreSQL database needs DATABASE_URL to point at PostgreSQL")
    # From DATABASE_URL itself, not settings: pytest-django renames the test database in settings.
    url = sa.make_url(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1))
    # One per parallel test process (pytest-xdist's gw0, gw1): each fills and empties its own.
    database = f"{url.database}_crm{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    return url.set(drivername="postgresql+psycopg2", database=database).render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """Create the external database if it does not exist yet (psycopg2, on the server's maintenance database)."""
    parsed = sa.make_url(url)
    admin = psycopg2.connect(
        dbname="postgres", user=parsed.username, password=parsed.password or None, host=parsed.host, port=parsed.port
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parsed.database])
            if cursor.fetchone() is None:
                cursor.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(parsed.database)))
    finally:
        admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def external_db(request, tmp_path_factory) -> Iterator[str]:
    """The URL of a filled external CRM database, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('external') / 'crm.sqlite3'}"
    else:
        url = postgres_url().replace("postgres://", "postgresql+psycopg2://", 1)
        ensure_database(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    _fill(engine)
    yield url
    metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def crm_url(external_db, monkeypatch) -> str:
    """The external database's URL, in the environment variable the connector's configuration names."""
    monkeypatch.setenv("CRM_DATABASE_URL", external_db)
    return external_db
