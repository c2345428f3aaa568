"""Publishing: approved drafts → Markdown, HTML, JSON and an Atom feed; webhooks; digests.

The daemon runs ``publish_due(app)`` and ``send_digest(app)`` as periodic jobs;
review.py raises the "approved" webhook with ``enqueue_event``.
"""

from newsflow.publish.digest import send_digest
from newsflow.publish.run import PublishReport, publish_due, withdraw, write_feed
from newsflow.publish.webhooks import deliver_due, enqueue_event

__all__ = ["PublishReport", "deliver_due", "enqueue_event", "publish_due", "send_digest",
           "withdraw", "write_feed"]
