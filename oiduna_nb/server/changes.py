"""Change management: list pending changes, cancel one, cancel all."""

from __future__ import annotations

from .base import BaseHandler
from .models import CancelAllResponse, CancelResponse, PendingResponse
from .openapi_ops import Operation


class CancelChangeHandler(BaseHandler):
    OPENAPI = {"delete": Operation("Cancel a pending change", CancelResponse, errors=(404,))}

    def delete(self, change_id: str) -> None:
        self.engine.cancel(change_id)
        self.reply(CancelResponse(cancelled_id=change_id))


class PendingHandler(BaseHandler):
    OPENAPI = {"get": Operation("List all pending changes", PendingResponse)}

    def get(self) -> None:
        self.reply({"pending": self.engine.pending()})


class CancelAllHandler(BaseHandler):
    OPENAPI = {"post": Operation("Cancel all pending changes", CancelAllResponse, body="none")}

    def post(self) -> None:
        self.reply(CancelAllResponse(cancelled_count=self.engine.cancel_all()))


ROUTES = [
    (r"/playback/changes/pending", PendingHandler),
    (r"/playback/changes/cancel-all", CancelAllHandler),
    (r"/playback/changes/([^/]+)", CancelChangeHandler),
]
