"""The web interface: server-rendered pages for responders and reviewers, on top of the
application layer, beside the JSON API. Every page reads without JavaScript; htmx (a
pinned copy in ``static/``) makes forms and updates partial where a browser runs it."""
