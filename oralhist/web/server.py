"""Run the editor with uvicorn: localhost with a token, or a network address with accounts."""

from __future__ import annotations

import socket
import threading
from typing import Callable, Optional

from oralhist.web.app import EditorConfig, make_app
from oralhist.web.auth import is_loopback, list_accounts
from oralhist.errors import BadInput


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sk:
        sk.bind((host, 0))
        return sk.getsockname()[1]


def config_for(ws, host: str, who: str) -> EditorConfig:
    """Token mode on loopback; anything else needs at least one editor account."""
    if is_loopback(host):
        return EditorConfig(ws=ws, mode="token", who=who)
    if not list_accounts(ws):
        raise BadInput(host, "the editor only listens beyond this computer with editor accounts; "
                             "create one first: oralhist edit user add NAME")
    return EditorConfig(ws=ws, mode="accounts", who=who)


def url_for(cfg: EditorConfig, host: str, port: int) -> str:
    shown = host if host not in ("0.0.0.0", "::") else socket.gethostname()
    shown = f"[{shown}]" if ":" in shown else shown
    base = f"http://{shown}:{port}/"
    return base + (f"?token={cfg.token}" if cfg.mode == "token" else "")


def build_server(ws, *, host: str = "127.0.0.1", port: int = 0, who: str = "editor"):
    """(uvicorn.Server, EditorConfig, url) — not started."""
    import uvicorn

    cfg = config_for(ws, host, who)
    port = port or free_port(host if host not in ("0.0.0.0", "::") else "127.0.0.1")
    config = uvicorn.Config(make_app(cfg), host=host, port=port, log_level="warning", access_log=False,
                            server_header=False, lifespan="off")
    return uvicorn.Server(config), cfg, url_for(cfg, host, port)


def start_in_thread(ws, **kw):
    """Start the editor in a background thread (tests, benchmarks). Returns (server, cfg, url)."""
    import time

    server, cfg, url = build_server(ws, **kw)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not t.is_alive():
            raise RuntimeError("the editor did not start")
        time.sleep(0.02)
    server._thread = t
    return server, cfg, url


def serve(ws, *, host: str = "127.0.0.1", port: int = 0, who: str = "editor", open_browser: bool = False,
          announce: Optional[Callable[[str], None]] = None) -> None:
    server, cfg, url = build_server(ws, host=host, port=port, who=who)
    say = announce or print
    say(f"Éditeur oralhist : {url}")
    if cfg.mode == "token":
        say("  (adresse personnelle : elle contient un jeton d’accès ; ne la partagez pas) — Ctrl+C pour arrêter")
    else:
        say("  connexion avec un compte éditeur (oralhist edit user add NOM) — Ctrl+C pour arrêter")
    if open_browser:
        import webbrowser

        threading.Timer(0.8, lambda: webbrowser.open(url)).start()
    server.run()
