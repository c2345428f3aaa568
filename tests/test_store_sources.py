from __future__ import annotations

import datetime as dt

from newsflow import clock
from newsflow.models import SourceConfig
from newsflow.store import Store
from newsflow.store import sources as ss


def test_failure_delay_doubles_up_to_the_cap_and_honours_retry_after() -> None:
    delays = [ss.failure_delay(600, n, 3600) for n in range(7)]
    assert delays == [600, 600, 1200, 2400, 3600, 3600, 3600]
    assert ss.failure_delay(600, 1, 3600, retry_after_s=5000) == 5000
    assert ss.failure_delay(7200, 3, 3600) == 7200  # never shorter than the poll interval


def test_attempts_update_health_and_log_fetches(store: Store) -> None:
    cfg = SourceConfig("j", "feed", url="http://x/", every_seconds=600)
    ss.sync_sources(store, [cfg])
    assert ss.due_names(store, [cfg]) == ["j"]
    ok = ss.Attempt(status="ok", url="http://x/", http_status=200, entries=3, new=2,
                    etag='"a"', last_modified="Tue, 14 Nov 2023 22:13:20 GMT",
                    body_hash="h1", problems=["XML error at line 3: junk"])
    ss.record_attempt(store, "j", ok, every_seconds=600, backoff_max=3600)
    state = ss.get_state(store, "j")
    assert state and (state.etag, state.body_hash, state.consecutive_failures) == ('"a"', "h1", 0)
    assert ss.due_names(store, [cfg]) == []
    for n in (1, 2, 3, 4):
        ss.record_attempt(store, "j", ss.Attempt(status="failed", error="HTTP 503", http_status=503),
                          every_seconds=600, backoff_max=3600)
        row = ss.list_health(store)[0]
        assert row["consecutive_failures"] == n and row["last_error"] == "HTTP 503"
        wait = (row["next_due_at"] - clock.utcnow()).total_seconds()
        assert abs(wait - ss.failure_delay(600, n, 3600)) < 30
    row = ss.list_health(store)[0]
    # validators and the last good state survive failures
    assert row["etag"] == '"a"' and row["last_entries"] == 3 and row["last_new_item_at"]
    assert row["feed_problems"] == "XML error at line 3: junk"
    ss.record_attempt(store, "j", ss.Attempt(status="not_modified", http_status=304),
                      every_seconds=600, backoff_max=3600)
    row = ss.list_health(store)[0]
    assert row["consecutive_failures"] == 0 and row["last_error"] is None and row["etag"] == '"a"'
    fetches = ss.recent_fetches(store, "j")
    assert [f["status"] for f in fetches] == ["not_modified"] + ["failed"] * 4 + ["ok"]
    assert fetches[-1]["new"] == 2 and fetches[-1]["entries"] == 3
    later = clock.utcnow() + dt.timedelta(hours=1)
    assert ss.due_names(store, [cfg], now=later) == ["j"]


def test_recording_with_the_lease_ends_the_poll_like_finish_source(store: Store) -> None:
    from newsflow.slots import slot_after, slot_start
    from newsflow.store import leases as L

    cfg = SourceConfig("k", "feed", url="http://x/", every_seconds=600)
    now = clock.utcnow()
    lease = L.claim_source(store, "k", "feed", "me", every=600, ttl=60, force=True, now=now)
    assert lease is not None
    ss.record_attempt(store, "k", ss.Attempt(status="not_modified", http_status=304),
                      every_seconds=600, lease=lease)
    assert L.list_leases(store) == []
    row = ss.list_health(store)[0]
    assert row["next_due_at"] == slot_after("k", 600, now + dt.timedelta(seconds=1))
    # a failure keeps its backoff (600 s, or the server's 2,000 s Retry-After), rounded up
    # to a slot start
    lease = L.claim_source(store, "k", "feed", "me", every=600, ttl=60, force=True, now=now)
    assert lease is not None
    before = clock.utcnow()
    ss.record_attempt(store, "k", ss.Attempt(status="failed", error="HTTP 429",
                                             http_status=429, retry_after_s=2000),
                      every_seconds=600, lease=lease)
    due = ss.list_health(store)[0]["next_due_at"]
    assert L.list_leases(store) == [] and ss.due_names(store, [cfg]) == []
    assert due >= before + dt.timedelta(seconds=2000) and slot_start("k", 600, due) == due
    assert due < clock.utcnow() + dt.timedelta(seconds=2600)
