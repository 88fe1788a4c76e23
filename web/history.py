"""Where the browser's address bar points after a form: the page it came from, when the
form was refused.

htmx puts a boosted form's action in the address bar with its answer. After a success
that answer is the page the 303 led to; after a refusal (a 4xx re-rendering the form
with its message) it would be the POST's path, which a reload then asks for with GET
(405). ``HX-Push-Url: false`` keeps the page's own address.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RefusalsStayPut:
    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                MutableHeaders(scope=message).setdefault("HX-Push-Url", "false")
            await send(message)

        await self.app(scope, receive, send_marked)
