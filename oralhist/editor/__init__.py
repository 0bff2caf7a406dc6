"""The local web editor (``oralhist edit``): Starlette app, Jinja templates, plain JS/CSS.

``server.serve`` runs it; ``app.make_app`` builds the ASGI app (tests start it in a thread).
"""
