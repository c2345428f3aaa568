from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from helpers.review_data import (
    PASSING,
    YAN_BODY,
    add_paper,
    cheap_argon2,  # noqa: F401
    seed_draft,
)
from newsflow import accounts, review
from newsflow.errors import AuthError, BlockedError, ReviewError, StaleVersionError, TransitionError
from newsflow.models import User
from newsflow.store import Store
from newsflow.store import review as qdb

EDITOR = User(id=1, username="erin", role="editor")
ADMIN = User(id=2, username="ada", role="admin")
VIEWER = User(id=3, username="vic", role="viewer")


def test_transition_table_walks_the_happy_path(store: Store) -> None:
    d = seed_draft(store, state="new", checks=PASSING).draft_id
    rec = review.transition(store, d, "start_review", version=1, actor=EDITOR)
    assert (rec.state, rec.version) == ("in_review", 2)
    rec = review.transition(store, d, "request_changes", version=2, actor=EDITOR,
                            reason="add the dose")
    assert rec.state == "changes_requested"
    rec = review.transition(store, d, "resubmit", version=3, actor=EDITOR)
    rec = review.transition(store, d, "approve", version=4, actor=EDITOR)
    assert (rec.state, rec.approved_by, rec.version) == ("approved", "erin", 5)
    rec = review.transition(store, d, "publish", version=5, actor=EDITOR)
    assert rec.state == "published" and rec.published_at is not None
    actions = [e.action for e in qdb.list_audit(store, d)]
    assert actions == ["created", "start_review", "request_changes", "resubmit", "approve",
                       "publish"]


def test_forbidden_transition_is_refused_with_reason(store: Store) -> None:
    d = seed_draft(store, state="new", checks=PASSING).draft_id
    with pytest.raises(TransitionError, match="it is new.*in_review"):
        review.transition(store, d, "approve", version=1, actor=EDITOR)
    with pytest.raises(TransitionError, match="unknown action"):
        review.transition(store, d, "retract", version=1, actor=ADMIN)
    assert qdb.get_draft(store, d).state == "new"  # type: ignore[union-attr]


def test_viewer_cannot_act(store: Store) -> None:
    d = seed_draft(store, checks=PASSING).draft_id
    with pytest.raises(ReviewError, match="viewer"):
        review.transition(store, d, "approve", version=1, actor=VIEWER)


def test_reject_needs_reason_and_reopen_returns_to_review(store: Store) -> None:
    d = seed_draft(store).draft_id
    with pytest.raises(ReviewError, match="reason is required"):
        review.transition(store, d, "reject", version=1, actor=EDITOR, reason="  ")
    rec = review.transition(store, d, "reject", version=1, actor=EDITOR,
                            reason="not about skin")
    assert (rec.state, rec.reject_reason) == ("rejected", "not about skin")
    rec = review.transition(store, d, "reopen", version=2, actor=EDITOR)
    assert rec.state == "in_review"


def test_blocking_check_refuses_approval_unless_admin_overrides(store: Store) -> None:
    d = seed_draft(store).draft_id  # editor_slots fails and blocks
    with pytest.raises(BlockedError, match="editor_slots"):
        review.transition(store, d, "approve", version=1, actor=EDITOR)
    with pytest.raises(BlockedError, match="only an admin"):
        review.transition(store, d, "approve", version=1, actor=EDITOR,
                          override_reason="fine")
    with pytest.raises(BlockedError):
        review.transition(store, d, "approve", version=1, actor=ADMIN)
    rec = review.transition(store, d, "approve", version=1, actor=ADMIN,
                            override_reason="cost line added by hand in the CMS")
    assert rec.state == "approved"
    ev = qdb.list_audit(store, d)[-1]
    assert ev.detail["override_reason"] == "cost line added by hand in the CMS"
    assert ev.detail["overridden_checks"] == ["editor_slots"]


def test_stale_version_is_refused_and_says_what_changed(store: Store) -> None:
    d = seed_draft(store).draft_id
    review.edit(store, d, version=1, actor=EDITOR, title="New title", body_markdown=YAN_BODY)
    with pytest.raises(StaleVersionError) as e:
        review.edit(store, d, version=1, actor=ADMIN, title="Other", body_markdown="Mine")
    assert e.value.current_version == 2
    assert "erin edited" in str(e.value) and "title" in str(e.value)
    rec = qdb.get_draft(store, d)
    assert rec is not None and rec.title == "New title"  # nothing overwritten
    with pytest.raises(StaleVersionError):
        review.transition(store, d, "reject", version=1, actor=EDITOR, reason="x")


def test_edit_makes_a_version_recomputes_checks_and_audits(store: Store) -> None:
    d = seed_draft(store).draft_id
    body = YAN_BODY.replace("[EDITOR: cost and availability]",
                            "It costs about as much as other pills for eczema.")
    rec = review.edit(store, d, version=1, actor=EDITOR, title="Eczema pill study",
                      body_markdown=body)
    assert rec.version == 2 and rec.human_edited and rec.blocking_failures == 0
    versions = qdb.list_versions(store, d)
    assert [(v.version, v.kind, v.author) for v in versions] == [(1, "auto", "newsflow"),
                                                                  (2, "edit", "erin")]
    assert "costs about as much" in versions[1].body_markdown
    slot = next(c for c in rec.checks if c.name == "editor_slots")
    assert slot.passed
    # Approval now goes through without override.
    assert review.transition(store, d, "approve", version=2, actor=EDITOR).state == "approved"
    with pytest.raises(TransitionError, match="reopen it before editing"):
        review.edit(store, d, version=3, actor=EDITOR, title="x", body_markdown="y")


def test_comments_assignment_priority_are_audited_without_bumping_version(store: Store) -> None:
    d = seed_draft(store).draft_id
    review.comment(store, d, actor=EDITOR, body="Check the dose <b>please</b>")
    review.assign(store, d, actor=EDITOR, assignee="ada")
    review.set_priority(store, d, actor=EDITOR, priority=3, due_at=dt.datetime(2026, 12, 1))
    rec = qdb.get_draft(store, d)
    assert rec is not None
    assert (rec.version, rec.assignee, rec.priority) == (1, "ada", 3)
    assert [c.body for c in qdb.list_comments(store, d)] == ["Check the dose <b>please</b>"]
    assert [e.action for e in qdb.list_audit(store, d)][-3:] == ["commented", "assigned",
                                                                 "prioritised"]


def test_retraction_forces_back_to_review_with_banner_and_block(store: Store) -> None:
    s = seed_draft(store, checks=PASSING)
    review.transition(store, s.draft_id, "approve", version=1, actor=EDITOR)
    moved = review.force_back_to_review(store, s.paper_id, "Retracted: data fabrication")
    assert moved == [s.draft_id]
    rec = qdb.get_draft(store, s.draft_id)
    assert rec is not None
    assert (rec.state, rec.banner, rec.approved_by) == ("in_review",
                                                        "Retracted: data fabrication", None)
    with pytest.raises(BlockedError, match="retraction"):
        review.transition(store, s.draft_id, "approve", version=rec.version, actor=EDITOR)


def test_bulk_checks_each_item_on_its_own(store: Store) -> None:
    good = seed_draft(store, doi="10.1/a", pmid="1", checks=PASSING).draft_id
    blocked = seed_draft(store, doi="10.1/b", pmid="2").draft_id
    stale = seed_draft(store, doi="10.1/c", pmid="3", checks=PASSING).draft_id
    res = review.bulk(store, [(good, 1), (blocked, 1), (stale, 7)], "approve", actor=EDITOR)
    assert [r.ok for r in res] == [True, False, False]
    assert "editor_slots" in res[1].message and "changed since" in res[2].message
    states = [qdb.get_draft(store, i).state for i in (good, blocked, stale)]  # type: ignore[union-attr]
    assert states == ["approved", "in_review", "in_review"]


def test_queue_counts_filters_search_and_keyset_pages(store: Store) -> None:
    base = dt.datetime(2026, 11, 1)
    ids = []
    for i in range(7):
        s = seed_draft(store, title=f"Study {i} on psoriasis" if i % 2 else f"Acne trial {i}",
                       doi=f"10.5555/x{i}", pmid=str(1000 + i),
                       design="rct" if i % 2 else "case_series",
                       relevant=i != 6, source="feed-a" if i < 4 else "pubmed-b",
                       checks=PASSING if i % 3 else None, priority=i % 3,
                       created_at=base + dt.timedelta(hours=i),
                       assignee="erin" if i == 5 else None)
        ids.append(s.draft_id)
    review.transition(store, ids[0], "reject", version=1, actor=EDITOR, reason="off topic")
    assert qdb.queue_counts(store) == {"new": 0, "in_review": 6, "changes_requested": 0,
                                       "approved": 0, "published": 0, "rejected": 1}

    def page(**kw: object) -> list[int]:
        items, _ = qdb.queue_page(store, qdb.QueueFilter(**kw), limit=50)  # type: ignore[arg-type]
        return [it.id for it in items]

    assert page() == ids[6:0:-1]  # open states, newest first; the rejected one is gone
    assert page(sort="oldest") == ids[1:]
    assert page(state="rejected") == [ids[0]]
    assert page(source="feed-a") == [ids[3], ids[2], ids[1]]
    assert page(design="rct") == [ids[5], ids[3], ids[1]]
    assert page(relevance="not_relevant") == [ids[6]]
    assert page(failing=True) == [ids[6], ids[3]]
    assert page(assignee="erin") == [ids[5]]
    assert page(q="PSORIASIS") == [ids[5], ids[3], ids[1]]
    assert page(q="https://doi.org/10.5555/X4") == [ids[4]]
    assert page(q="PMID: 1002") == [ids[2]]
    assert page(q="100%_") == []
    assert page(sort="priority") == [ids[5], ids[2], ids[4], ids[1], ids[6], ids[3]]

    seen, cursor = [], None
    while True:
        items, cursor = qdb.queue_page(store, qdb.QueueFilter(sort="priority"), after=cursor,
                                       limit=2)
        seen += [it.id for it in items]
        if cursor is None:
            break
    assert seen == page(sort="priority")
    with pytest.raises(ReviewError, match="cursor"):
        qdb.queue_page(store, qdb.QueueFilter(), after="garbage")


def test_accounts_hash_verify_throttle_and_disable(store: Store) -> None:
    u = accounts.add_user(store, "ada", "correct horse", "admin")
    assert u.role == "admin"
    with pytest.raises(AuthError, match="already exists"):
        accounts.add_user(store, "ada", "another one", "editor")
    with pytest.raises(AuthError, match="role"):
        accounts.add_user(store, "bob", "long enough", "boss")
    with pytest.raises(AuthError, match="8 characters"):
        accounts.add_user(store, "bob", "short", "editor")
    from newsflow.store.users import password_hash
    h = password_hash(store, "ada")
    assert h is not None and h.startswith("$argon2id$") and "correct horse" not in h

    def login(pw: str, addr: str = "10.0.0.1") -> User:
        return accounts.authenticate(store, "ada", pw, addr, max_attempts=3, window_s=60)

    assert login("correct horse").username == "ada"
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong username or password"):
            login("nope")
    with pytest.raises(AuthError, match="too many"):
        login("correct horse")
    assert login("correct horse", addr="10.0.0.2").username == "ada"  # per address
    later = accounts.authenticate(store, "ada", "correct horse", "10.0.0.1", max_attempts=3,
                                  window_s=60, now=dt.datetime.now() + dt.timedelta(minutes=5))
    assert later.username == "ada"
    accounts.set_password(store, "ada", "battery staple")
    with pytest.raises(AuthError):
        login("correct horse", addr="10.0.0.3")
    accounts.set_disabled(store, "ada")
    with pytest.raises(AuthError):
        login("battery staple", addr="10.0.0.4")


def test_paper_view_returns_facts_in_span_order(store: Store) -> None:
    s = seed_draft(store)
    pv = qdb.paper_view(store, s.paper_id)
    assert pv is not None
    from newsflow.models import AbstractSection, abstract_text
    abstract = abstract_text([AbstractSection(x["label"], x["text"]) for x in pv.abstract_sections])
    assert [f.name for f in pv.facts] == ["sample_size", "dose", "duration", "outcome"]
    for f in pv.facts:
        assert abstract[f.span_start:f.span_end] == f.value
    assert add_paper(store, title="no draft") > s.paper_id


def test_edit_reruns_the_drafting_checks(store: Store, tmp_path: Path) -> None:
    from helpers.webapp import make_app
    app = make_app(store, tmp_path / "data")
    d = seed_draft(store).draft_id
    check = review.draft_checker(app)
    invented = YAN_BODY.replace("3 of 6 had a 90% drop", "42% had a 90% drop")
    rec = review.edit(store, d, version=1, actor=EDITOR, title="Eczema pill study",
                      body_markdown=invented, checker=check)
    numbers = next(c for c in rec.checks if c.name == "number_provenance")
    assert not numbers.passed and numbers.blocking and "42%" in numbers.detail
    assert {c.name for c in rec.checks} >= {"hype_words", "readability", "editor_slots"}
    assert rec.readability and any(p.get("token") == "15" for p in rec.provenance)
    with pytest.raises(BlockedError, match="number_provenance"):
        review.transition(store, d, "approve", version=rec.version, actor=EDITOR)
    rec = review.edit(store, d, version=rec.version, actor=EDITOR, title="Eczema pill study",
                      body_markdown=YAN_BODY, checker=check)
    assert next(c for c in rec.checks if c.name == "number_provenance").passed
