"""The access log line carries the query string, with the values of parameters named like
secrets replaced by `***` (before, the query string was not logged at all)."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.logging import JsonFormatter
from app.core.middleware import MAX_LOGGED_QUERY, loggable_query


def logged(caplog, client, url):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="zhucun.access"):
        client.get(url)
    (record,) = [r for r in caplog.records if r.name == "zhucun.access"]
    return json.loads(JsonFormatter().format(record))


def test_the_query_string_is_logged(world, caplog):
    line = logged(caplog, world.client, "/api/v1/villages?scope=430121&limit=5&cursor=WyJhIl0")
    assert line["path"] == "/api/v1/villages"
    assert line["query"] == "scope=430121&limit=5&cursor=WyJhIl0"


def test_secrets_in_the_query_string_are_redacted(client, caplog):
    url = (
        "/healthz?access_token=eyJhbGciOi.x.y&code=071abc&Password=hunter2&api%5Fkey=k1"
        "&client_secret=s&X-Amz-Signature=ab12&refresh_token=r&day=2026-01-05"
    )
    line = logged(caplog, client, url)
    assert line["query"] == (
        "access_token=***&code=***&Password=***&api%5Fkey=***&client_secret=***"
        "&X-Amz-Signature=***&refresh_token=***&day=2026-01-05"
    )
    for secret in ("eyJhbGciOi", "071abc", "hunter2", "k1", "ab12"):
        assert secret not in json.dumps(line)


def test_no_query_logs_an_empty_one(client, caplog):
    assert logged(caplog, client, "/healthz")["query"] == ""


def test_a_long_query_is_cut_short(client, caplog):
    line = logged(caplog, client, "/healthz?q=" + "x" * 5000)
    assert len(line["query"]) < MAX_LOGGED_QUERY + 40
    assert line["query"].endswith("…(5,002 characters)")


SECRET_NAMES = st.sampled_from(["token", "code", "password", "secret", "key", "signature"])


@given(
    prefix=st.sampled_from(["", "x_", "wx-", "refresh_"]),
    name=SECRET_NAMES,
    value=st.text(st.characters(codec="ascii", exclude_characters="&#"), min_size=1),
)
def test_no_secret_named_value_survives(prefix, name, value):
    query = f"scope=43&{prefix}{name.upper()}={value}&limit=5"
    logged_query = loggable_query(query.encode("latin-1"))
    assert logged_query == f"scope=43&{prefix}{name.upper()}=***&limit=5"


@pytest.mark.parametrize("name", ["scope", "cursor", "from", "member_id", "format"])
def test_the_services_own_parameters_are_kept(name):
    assert loggable_query(f"{name}=v1".encode()) == f"{name}=v1"
