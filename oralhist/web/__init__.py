"""The workbench (``oralhist serve``) and the one-person editor (``oralhist edit``): one Starlette app.

``server.serve`` runs it; ``app.make_app`` builds the ASGI app (tests start it in a thread).
"""
