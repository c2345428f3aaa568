"""Work claims: one holder at a time, expiry frees crashed claims, slots limit polls."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from newsflow.slots import anchor, slot_after, slot_start
from newsflow.store import Store
from newsflow.store import leases as L
from newsflow.store.schema import papers, sources

T0 = dt.datetime(2026, 11, 25, 12, 0, 0)


def sec(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def add_papers(store: Store, n: int) -> list[int]:
    now = T0
    rows = [dict(title=f"p{i}", doi=f"10.1/{i}", abstract_sections=[], authors=[],
                 publication_types=[], mesh_terms=[], keywords=[], grants=[], updates=[],
                 field_sources={}, created_at=now, updated_at=now) for i in range(n)]
    with store.write() as c:
        c.execute(papers.insert(), rows)
        return [r.id for r in c.execute(sa.select(papers.c.id).order_by(papers.c.id))]


def test_one_holder_until_expiry_then_anyone(store: Store) -> None:
    a = L.claim(store, "k", "a", 10, now=T0)
    assert a is not None and a.expires_at == T0 + sec(10)
    assert L.claim(store, "k", "b", 10, now=T0 + sec(9)) is None
    # even the holder cannot take it twice: two threads of one daemon must not share work
    assert L.claim(store, "k", "a", 10, now=T0 + sec(9)) is None
    b = L.claim(store, "k", "b", 10, now=T0 + sec(10))
    assert b is not None and b.owner == "b"
    assert [x.owner for x in L.list_leases(store)] == ["b"]
    # a stale holder can neither renew nor release what it lost
    assert not L.renew(store, "k", "a", 10)
    assert not L.release(store, "k", "a")
    assert L.release(store, "k", "b")
    assert L.list_leases(store) == []


def test_renew_extends_and_release_all(store: Store) -> None:
    L.claim(store, "x", "me", 5, now=T0)
    L.claim(store, "y", "me", 5, now=T0)
    L.claim(store, "z", "other", 5, now=T0)
    assert L.renew(store, "x", "me", 60, now=T0 + sec(4))
    assert L.claim(store, "x", "other", 5, now=T0 + sec(30)) is None
    assert L.claim(store, "y", "other", 5, now=T0 + sec(30)) is not None
    assert L.release_all(store, "me") == 1
    assert sorted(x.key for x in L.list_leases(store)) == ["y", "z"]
    assert L.purge_expired(store, now=T0 + sec(36)) == 2


def test_held_renews_while_working_and_releases(store: Store) -> None:
    lease = L.claim(store, "slow", "me", 0.6)
    assert lease is not None
    with L.held(store, lease, 0.6):
        threading.Event().wait(1.5)  # longer than the lease: the heartbeat must keep it
        assert L.claim(store, "slow", "thief", 0.6) is None
    assert L.list_leases(store) == []


def test_slots_are_a_fixed_grid_per_source() -> None:
    a = anchor("JAMA", 60)
    assert dt.timedelta(0) <= a - dt.datetime(2000, 1, 1) < sec(60)
    assert anchor("JAMA", 60) == a and anchor("BJD", 60) != a
    t = T0 + sec(17.3)
    s = slot_start("JAMA", 60, t)
    assert s <= t < s + sec(60)
    assert (s - a).total_seconds() % 60 == 0
    assert slot_after("JAMA", 60, t) == s + sec(60)
    assert slot_after("JAMA", 60, s) == s + sec(60)


def test_claim_source_once_per_slot(store: Store) -> None:
    every = 60.0
    s0 = slot_start("feed-a", every, T0)
    first = L.claim_source(store, "feed-a", "feed", "d1", every=every, ttl=30, now=s0 + sec(1))
    assert first is not None
    with store.read() as c:
        due = c.execute(sa.select(sources.c.next_due_at)).scalar_one()
    assert due == s0 + sec(60)
    # the poll's own health update pushed next_due_at to "finished + interval"
    with store.write() as c:
        c.execute(sources.update().values(next_due_at=s0 + sec(65)))
    L.finish_source(store, first, every=every)
    with store.read() as c:
        assert c.execute(sa.select(sources.c.next_due_at)).scalar_one() == s0 + sec(60)
    assert L.list_leases(store) == []
    # other daemons' timers later in the same slot find it not due, up to its last second
    for who, at in (("d2", 3), ("d3", 6), ("d1", 58.9)):
        assert L.claim_source(store, "feed-a", "feed", who, every=every, ttl=30,
                              now=s0 + sec(at)) is None
    # the next slot's first timer wins, even a little early (clock skew between hosts)
    nxt = L.claim_source(store, "feed-a", "feed", "d2", every=every, ttl=30,
                         now=s0 + sec(59.5))
    assert nxt is not None and nxt.owner == "d2"
    # a live lease blocks even a forced poll; once released, force ignores the schedule
    assert L.claim_source(store, "feed-a", "feed", "d3", every=every, ttl=30, force=True,
                          now=s0 + sec(61)) is None
    L.release(store, nxt.key, "d2")
    assert L.claim_source(store, "feed-a", "feed", "d3", every=every, ttl=30, force=True,
                          now=s0 + sec(61)) is not None


def test_finish_keeps_failure_backoff_on_the_grid(store: Store) -> None:
    s0 = slot_start("feed-c", 10, T0)
    lease = L.claim_source(store, "feed-c", "feed", "d", every=10, ttl=30, now=s0 + sec(2))
    assert lease is not None
    with store.write() as c:  # the poll failed; ingest backs off for 45 s
        c.execute(sources.update().values(next_due_at=s0 + sec(47), consecutive_failures=2))
    L.finish_source(store, lease, every=10)
    with store.read() as c:  # never earlier than the backoff, and on the grid
        assert c.execute(sa.select(sources.c.next_due_at)).scalar_one() == s0 + sec(50)
    assert L.claim_source(store, "feed-c", "feed", "d", every=10, ttl=30,
                          now=s0 + sec(47)) is None
    assert L.claim_source(store, "feed-c", "feed", "d", every=10, ttl=30,
                          now=s0 + sec(50)) is not None


def test_overrunning_poll_leaves_the_next_slot_due(store: Store) -> None:
    s0 = slot_start("feed-d", 10, T0)
    lease = L.claim_source(store, "feed-d", "feed", "d", every=10, ttl=30, now=s0 + sec(1))
    assert lease is not None
    with store.write() as c:  # a slow success at s0+14 s: ingest says "now + interval"
        c.execute(sources.update().values(next_due_at=s0 + sec(24)))
    L.finish_source(store, lease, every=10)
    # the slot the poll ran into has not been polled: it is due right away
    assert L.claim_source(store, "feed-d", "feed", "d", every=10, ttl=30,
                          now=s0 + sec(14)) is not None


def test_crashed_source_poll_is_retaken_after_expiry(store: Store) -> None:
    s0 = slot_start("feed-b", 10, T0)
    assert L.claim_source(store, "feed-b", "feed", "dead", every=10, ttl=30, now=s0) is not None
    # the poll never finished; the next slot is due but the lease still stands
    assert L.claim_source(store, "feed-b", "feed", "live", every=10, ttl=30,
                          now=s0 + sec(12)) is None
    # after expiry the schedule says due again and the lease is free
    got = L.claim_source(store, "feed-b", "feed", "live", every=10, ttl=30, now=s0 + sec(31))
    assert got is not None and got.owner == "live"


def test_claim_due_sources_takes_each_once(store: Store) -> None:
    everies = {f"s{i}": 60.0 for i in range(7)}
    for name in everies:
        L.claim_source(store, name, "feed", "boot", every=60, ttl=1, force=True, now=T0)
    with store.write() as c:
        c.execute(sources.update().values(next_due_at=T0))
    now = T0 + sec(5)
    got1 = L.claim_due_sources(store, "a", everies, ttl=30, limit=4, now=now)
    got2 = L.claim_due_sources(store, "b", everies, ttl=30, limit=4, now=now)
    got3 = L.claim_due_sources(store, "c", everies, ttl=30, limit=4, now=now)
    assert len(got1) == 4 and len(got2) == 3 and got3 == []
    assert {x.key for x in got1 + got2} == {L.source_key(n) for n in everies}


def test_claim_papers_skips_leased(store: Store) -> None:
    ids = add_papers(store, 5)
    cand = sa.select(papers.c.id)
    a = L.claim_papers(store, "a", cand, ttl=30, limit=3, now=T0)
    b = L.claim_papers(store, "b", cand, ttl=30, limit=3, now=T0)
    assert [p for p, _ in a] == ids[:3] and [p for p, _ in b] == ids[3:]
    assert L.claim_papers(store, "a", cand, ttl=30, now=T0) == []
    # a's claims expire (a crashed): c picks them up
    c = L.claim_papers(store, "c", cand, ttl=30, now=T0 + sec(31))
    assert [p for p, _ in c] == ids


def test_concurrent_claimers_never_share(store: Store) -> None:
    """Eight threads with their own connections race for 60 papers and 20 sources."""
    ids = add_papers(store, 60)
    cand = sa.select(papers.c.id)
    won_papers: list[int] = []
    won_sources: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            start.wait()
            while True:
                got = L.claim_papers(store, f"w{n}", cand, ttl=60, limit=3)
                if not got:
                    break
                with lock:
                    won_papers.extend(p for p, _ in got)
            for i in range(20):
                if L.claim_source(store, f"src{i}", "feed", f"w{n}", every=3600, ttl=60):
                    with lock:
                        won_sources.append(f"src{i}")
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(won_papers) == ids
    assert Counter(won_sources) == Counter(f"src{i}" for i in range(20))


def test_leases_cli_lists_claims(tmp_path, monkeypatch) -> None:
    import json

    from click.testing import CliRunner

    from newsflow.cli import cli

    monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    store = Store(f"sqlite:///{tmp_path / 'newsflow.db'}")
    L.claim(store, "source:JAMA", "host:1:abc", 60)
    L.claim(store, "paper:7", "host:2:def", 60, now=T0)
    out = runner.invoke(cli, ["leases", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["key"]: r for r in json.loads(out.output)}
    assert rows["source:JAMA"]["owner"] == "host:1:abc" and not rows["source:JAMA"]["expired"]
    assert rows["paper:7"]["expired"]
    text = runner.invoke(cli, ["leases"]).output
    assert "paper:7  host:2:def  expired" in text
    store.dispose()


def test_daemon_schedules_enrichment_retries_and_retraction_checks(tmp_path: Path) -> None:
    from newsflow import daemon
    from newsflow.settings import load_settings

    cfg = tmp_path / "n.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n[enrich]\nenabled = false\n')
    settings = load_settings(cfg, load_sources=False)
    jobs = {j.name: j for j in daemon.periodic_jobs(settings)}
    assert jobs["enrich-retry"].every == 900 and jobs["retraction-check"].every == 86400
    # Offline (enrichment off) both jobs do nothing and touch no network or database.
    app = type("A", (), {"settings": settings})()
    assert jobs["enrich-retry"].fn(app) == 0 and jobs["retraction-check"].fn(app) == 0


def test_claim_sources_in_one_go_matches_claiming_each(store: Store) -> None:
    every = 60.0
    names = ["fa", "fb", "fc", "fd"]
    # fb is not due yet; fc is held by a live lease of another process; fd is new
    for n in ("fa", "fb", "fc"):
        assert L.claim_source(store, n, "feed", "boot", every=every, ttl=1, force=True,
                              now=T0 - sec(120)) is not None
    with store.write() as c:
        c.execute(sa.delete(L.leases))
        c.execute(sources.update().values(next_due_at=T0))
        c.execute(sources.update().where(sources.c.name == "fb")
                  .values(next_due_at=T0 + sec(30)))
    assert L.claim(store, L.source_key("fc"), "other", ttl=300, now=T0) is not None
    wanted = [(n, "feed", every) for n in names]
    got = L.claim_sources(store, wanted, "me", ttl=30, now=T0 + sec(1))
    assert {n for n, lease in got.items() if lease} == {"fa", "fd"}
    assert got["fa"] == L.Lease("source:fa", "me", T0 + sec(1), T0 + sec(31))
    with store.read() as c:
        due = dict(tuple(r) for r in c.execute(sa.select(sources.c.name, sources.c.next_due_at)))
        kinds = dict(tuple(r) for r in c.execute(sa.select(sources.c.name, sources.c.kind)))
    # a claimed source moves to its next slot, so other timers in this slot skip it
    assert due["fa"] == slot_after("fa", every, T0 + sec(2)) and due["fa"] > T0 + sec(1)
    assert due["fd"] == slot_after("fd", every, T0 + sec(2)) and kinds["fd"] == "feed"
    assert due["fb"] == T0 + sec(30) and due["fc"] == T0
    # force claims the one not due, never the one held; a second batch gets nothing held
    forced = L.claim_sources(store, wanted, "me2", ttl=30, force=True, now=T0 + sec(2))
    assert {n for n, lease in forced.items() if lease} == {"fb"}
