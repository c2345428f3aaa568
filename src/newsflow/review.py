"""The review workflow: one transition table, enforced here for the web UI and the CLI alike.

    new ─start_review─► in_review ─approve─► approved ─publish─► published
                          │  ▲                  │
          request_changes ▼  │ resubmit         └─reopen─► in_review
                  changes_requested
    new / in_review / changes_requested ─reject (reason)─► rejected ─reopen─► in_review
    any state ─retract (system)─► in_review, with a banner and a blocking check

Every action names the version the caller saw; a stale version is refused with what changed
(``StaleVersionError``).  Approval is refused while a blocking check fails unless an admin
overrides with a reason.  Every change is written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsflow.clock import utcnow
from newsflow.errors import BlockedError, ReviewError, StaleVersionError, TransitionError
from newsflow.models import Check, DraftRecord, User
from newsflow.publish.webhooks import enqueue_event
from newsflow.store import Store
from newsflow.store import review as db

if TYPE_CHECKING:
    from newsflow.app import App

TRANSITIONS: dict[str, dict[str, str]] = {
    "start_review": {"new": "in_review"},
    "approve": {"in_review": "approved"},
    "request_changes": {"in_review": "changes_requested"},
    "resubmit": {"changes_requested": "in_review"},
    "reject": {"new": "rejected", "in_review": "rejected", "changes_requested": "rejected"},
    "reopen": {"rejected": "in_review", "approved": "in_review"},
    "publish": {"approved": "published"},
    "retract": {s: "in_review" for s in db.STATES},
}
# Actions people take; "retract" is the system's alone.
USER_ACTIONS = ("start_review", "approve", "request_changes", "resubmit", "reject", "reopen",
                "publish")
NEEDS_REASON = ("reject",)
EDITABLE_STATES = ("new", "in_review", "changes_requested")
ACTION_LABELS = {
    "start_review": "Start review", "approve": "Approve", "request_changes": "Request changes",
    "resubmit": "Back to review", "reject": "Reject", "reopen": "Reopen", "publish": "Publish",
}
EDITOR_SLOT = re.compile(r"\[\s*EDITOR\b[^\]]*\]")
SYSTEM = "newsflow"


def allowed_actions(state: str) -> list[str]:
    return [a for a in USER_ACTIONS if state in TRANSITIONS[a]]


def load(store: Store, draft_id: int) -> DraftRecord:
    draft = db.get_draft(store, draft_id)
    if draft is None:
        raise ReviewError(f"no draft {draft_id}")
    return draft


def _require_editor(actor: User) -> None:
    if actor.disabled:
        raise ReviewError(f"user {actor.username!r} is disabled")
    if actor.role not in ("admin", "editor"):
        raise ReviewError(f"{actor.username} is a {actor.role}; only editors and admins "
                          "can change drafts")


def _check_version(store: Store, draft: DraftRecord, version: int | None) -> None:
    """Refuse early, with the change log, when the caller's version is already stale."""
    if version is not None and version != draft.version:
        raise db.stale_error_for(store, draft.id, version, draft.version)


def transition(store: Store, draft_id: int, action: str, *, version: int | None,
               actor: User, reason: str | None = None,
               override_reason: str | None = None) -> DraftRecord:
    """Move a draft along the transition table; ``version`` is the one the caller saw."""
    if action not in TRANSITIONS or action == "retract":
        raise TransitionError(f"unknown action {action!r} "
                              f"(allowed: {', '.join(USER_ACTIONS)})")
    _require_editor(actor)
    draft = load(store, draft_id)
    _check_version(store, draft, version)
    target = TRANSITIONS[action].get(draft.state)
    if target is None:
        from_states = ", ".join(TRANSITIONS[action])
        raise TransitionError(f"cannot {action.replace('_', ' ')} draft {draft_id}: it is "
                              f"{draft.state}, and that action needs one of: {from_states}")
    reason = (reason or "").strip() or None
    if action in NEEDS_REASON and not reason:
        raise ReviewError(f"a reason is required to {action.replace('_', ' ')} a draft")
    detail: dict[str, Any] = {"from": draft.state, "to": target}
    values: dict[str, Any] = {"state": target}
    if reason:
        detail["reason"] = reason
    if action == "reject":
        values["reject_reason"] = reason
    if action == "approve":
        failing = draft.failing_blocking
        if failing:
            names = ", ".join(f"{c.name} ({c.detail})" if c.detail else c.name for c in failing)
            override = (override_reason or "").strip()
            if not override:
                raise BlockedError(f"cannot approve draft {draft_id}: blocking checks fail: "
                                   f"{names}. Fix the draft, or an admin may override with a "
                                   "reason.")
            if actor.role != "admin":
                raise BlockedError(f"cannot approve draft {draft_id}: blocking checks fail "
                                   f"({names}) and only an admin may override them")
            detail["override_reason"] = override
            detail["overridden_checks"] = [c.name for c in failing]
        values.update(approved_by=actor.username, approved_at=utcnow())
    if action == "reopen":
        values.update(approved_by=None, approved_at=None)
    if action == "publish":
        values["published_at"] = utcnow()
    rec = db.apply_change(store, draft_id, draft.version, actor.username,
                          db.Change(action=action, values=values, detail=detail))
    if action == "approve":
        # Publishing raises "published" and "retracted" itself, when the files change.
        enqueue_event(store, "approved", draft_id,
                      {"title": rec.title, "approved_by": rec.approved_by,
                       "version": rec.version, "doi": rec.doi, "pmid": rec.pmid})
    return rec


# (checks, readability or None to keep, provenance or None to keep)
CheckResult = tuple[list[Check], dict[str, float] | None, list[dict[str, Any]] | None]
Checker = Callable[[DraftRecord, str, str], CheckResult]


def recompute_checks(draft: DraftRecord, title: str, body: str) -> CheckResult:
    """Checks for an edited draft when the drafting stage cannot re-run them (no App):
    the editor-slot check is recomputed from the new body, the others are kept."""
    slots = EDITOR_SLOT.findall(body)
    kept = [c for c in draft.checks if c.name != "editor_slots"]
    had_slot_check = any(c.name == "editor_slots" for c in draft.checks)
    if slots or had_slot_check:
        kept.append(Check(name="editor_slots", passed=not slots, blocking=True,
                          detail=("open: " + ", ".join(slots)) if slots else
                          "every editor slot is filled"))
    return kept, None, None


def draft_checker(app: App) -> Checker:
    """Re-run the drafting stage's checks on an editor's text, against the paper's facts."""
    from newsflow.draft.checks import run_checks
    from newsflow.draft.context import build_context
    from newsflow.draft.numbers import Derivations
    from newsflow.draft.render import source_texts
    from newsflow.draft.stage import drafter_for
    from newsflow.store.drafts import load_paper

    def check(draft: DraftRecord, title: str, body: str) -> CheckResult:
        paper = load_paper(app.store, draft.paper_id)
        if paper is None:
            return recompute_checks(draft, title, body)
        drafter = drafter_for(app)
        log = Derivations()
        ctx = build_context(paper, paper.facts, drafter.resources, log)
        checks, readability, provenance = run_checks(
            title, body, ctx, drafter.resources, source_texts(paper, paper.facts), log)
        # A retraction stays blocking whatever the text says.
        checks += [c for c in draft.checks if c.name == "retraction"]
        return checks, readability, provenance + [{"derivation": d} for d in log.items]

    return check


def edit(store: Store, draft_id: int, *, version: int | None, actor: User, title: str,
         body_markdown: str, checker: Checker | None = None) -> DraftRecord:
    """Save an editor's Markdown as a new version (kind "edit") and recompute the checks."""
    _require_editor(actor)
    draft = load(store, draft_id)
    _check_version(store, draft, version)
    if draft.state not in EDITABLE_STATES:
        raise TransitionError(f"draft {draft_id} is {draft.state}; reopen it before editing")
    title = title.strip()
    body = body_markdown.replace("\r\n", "\n").strip() + "\n"
    if not title or not body.strip():
        raise ReviewError("a draft needs a title and a body")
    fields = [n for n, old, new in (("title", draft.title, title),
                                    ("body", draft.body_markdown.strip(), body.strip()))
              if old != new]
    if not fields:
        return draft
    checks, readability, provenance = (checker or recompute_checks)(draft, title, body)
    values: dict[str, Any] = {"title": title, "body_markdown": body,
                              "checks": [c.to_json() for c in checks],
                              "blocking_failures": db.blocking_failures(checks),
                              "human_edited": True}
    if readability is not None:
        values["readability"] = readability
    if provenance is not None:
        values["provenance"] = provenance
    return db.apply_change(store, draft_id, draft.version, actor.username,
                           db.Change(action="edited", values=values,
                                     detail={"fields": fields}, new_version_kind="edit"))


def comment(store: Store, draft_id: int, *, actor: User, body: str) -> None:
    if actor.disabled or actor.role == "viewer":
        raise ReviewError("only editors and admins can comment")
    text = body.strip()
    if not text:
        raise ReviewError("a comment cannot be empty")
    load(store, draft_id)
    db.add_comment(store, draft_id, actor.username, text[:5000])


def assign(store: Store, draft_id: int, *, actor: User, assignee: str | None) -> None:
    _require_editor(actor)
    load(store, draft_id)
    who = (assignee or "").strip() or None
    db.update_meta(store, draft_id, actor.username, "assigned", {"assignee": who},
                   {"assignee": who or "nobody"})


def set_priority(store: Store, draft_id: int, *, actor: User, priority: int,
                 due_at: Any = None) -> None:
    _require_editor(actor)
    load(store, draft_id)
    db.update_meta(store, draft_id, actor.username, "prioritised",
                   {"priority": priority, "due_at": due_at},
                   {"priority": priority, "due_at": due_at.isoformat() if due_at else None})


def force_back_to_review(store: Store, paper_id: int, banner: str) -> list[int]:
    """A retraction or correction: every draft of the paper goes back to in_review, with a
    banner and a failing blocking check so nobody approves it without an admin's override."""
    moved = []
    for draft_id in db.draft_ids_for_paper(store, paper_id):
        draft = load(store, draft_id)
        checks = [c for c in draft.checks if c.name != "retraction"]
        checks.append(Check(name="retraction", passed=False, blocking=True, detail=banner))
        values = {"state": "in_review", "banner": banner,
                  "checks": [c.to_json() for c in checks],
                  "blocking_failures": db.blocking_failures(checks),
                  "approved_by": None, "approved_at": None}
        db.apply_change(store, draft_id, None, SYSTEM,
                        db.Change(action="retract", values=values,
                                  detail={"from": draft.state, "to": "in_review",
                                          "banner": banner}))
        moved.append(draft_id)
    return moved


@dataclass
class BulkResult:
    draft_id: int
    ok: bool
    message: str
    state: str | None = None


def bulk(store: Store, items: Iterable[tuple[int, int | None]], action: str, *, actor: User,
         reason: str | None = None) -> list[BulkResult]:
    """Apply one action to many drafts; each is checked and committed on its own."""
    out = []
    for draft_id, version in items:
        try:
            d = transition(store, draft_id, action, version=version, actor=actor, reason=reason)
            out.append(BulkResult(draft_id, True, f"{d.state} (v{d.version})", d.state))
        except (ReviewError, StaleVersionError) as e:
            out.append(BulkResult(draft_id, False, str(e)))
    return out
