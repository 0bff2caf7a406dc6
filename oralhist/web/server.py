"""Run the editor with uvicorn: localhost with a token, or a network address with accounts."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
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


def server_settings(ws) -> dict:
    """[server] of oralhist.toml: host, port, hosts (names accepted in the Host header), secure_cookies
    (trusted_proxies and upload_quota_gb are checked in workspace.Settings)."""
    raw = ws.settings.raw.get("server", {}) if isinstance(ws.settings.raw, dict) else {}
    return raw if isinstance(raw, dict) else {}


def workbench_config(ws, host: str) -> EditorConfig:
    """`oralhist serve`: accounts always (one needs an admin first), Host names checked."""
    if not list_accounts(ws):
        raise BadInput(host, "the workbench needs an account first: oralhist user add LOGIN --role admin")
    conf = server_settings(ws)
    hosts = {"localhost", "127.0.0.1", "::1", host.lower()} | {str(h).lower() for h in conf.get("hosts", [])}
    hosts.discard("0.0.0.0")
    hosts.discard("::")
    from oralhist.web.auth import proxy_networks

    return EditorConfig(ws=ws, mode="accounts", allowed_hosts=tuple(sorted(hosts)),
                        secure_cookies=bool(conf.get("secure_cookies", False)),
                        trusted_proxies=proxy_networks(ws.settings.trusted_proxies),
                        upload_quota=int(ws.settings.upload_quota_gb * 1024**3),
                        idle_minutes=float(conf.get("idle_minutes", 30)),  # ranges: workspace.NUMERIC_SETTINGS
                        session_hours=float(conf.get("session_hours", 12)))


def build_server(ws, *, host: str = "127.0.0.1", port: int = 0, who: str = "editor", cfg: EditorConfig | None = None):
    """(uvicorn.Server, EditorConfig, url) — not started."""
    import uvicorn

    cfg = cfg or config_for(ws, host, who)
    if cfg.mode == "token" and not cfg.allowed_hosts:
        cfg.allowed_hosts = ("localhost", "127.0.0.1", "::1")
    port = port or free_port(host if host not in ("0.0.0.0", "::") else "127.0.0.1")
    config = uvicorn.Config(make_app(cfg), host=host, port=port, log_level="warning", access_log=False,
                            server_header=False, lifespan="off",
                            proxy_headers=False)  # X-Forwarded-*: believed by web.auth.forwarded_scope only
    # from [server] trusted_proxies (uvicorn's default trusts any from 127.0.0.1, i.e. every client)
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
            raise RuntimeError("the web application did not start")
        time.sleep(0.02)
    server._thread = t
    return server, cfg, url


def run(ws, cfg: EditorConfig, *, host: str, port: int, announce: Optional[Callable[[str], None]] = None,
        open_browser: bool = False, runner: bool = True) -> None:
    """Run the application until Ctrl+C: `oralhist serve` (accounts) and `oralhist edit` (token mode)
    are this one function with two configurations. On SQLite an accounts server also runs the jobs."""
    from oralhist import jobs

    server, cfg, url = build_server(ws, host=host, port=port, cfg=cfg)
    say = announce or print
    if cfg.mode == "token":
        say(f"Éditeur oralhist : {url}")
        say("  (adresse personnelle : elle contient un jeton d’accès ; ne la partagez pas) — Ctrl+C pour arrêter")
    else:
        say(f"Atelier oralhist : {url}  — connexion avec un compte (oralhist user add NOM) — Ctrl+C pour arrêter")
    if open_browser:
        import webbrowser

        threading.Timer(0.8, lambda: webbrowser.open(url)).start()
    background = jobs.EmbeddedRunner(ws).start() if runner and cfg.mode != "token" and not jobs.is_network(ws) else None
    try:
        server.run()
    finally:
        if background is not None:
            background.stop()


def serve(ws, *, host: str = "127.0.0.1", port: int = 0, who: str = "editor", open_browser: bool = False,
          announce: Optional[Callable[[str], None]] = None) -> None:
    """`oralhist edit`: token mode on this computer (accounts when it listens beyond it)."""
    run(ws, config_for(ws, host, who), host=host, port=port, announce=announce, open_browser=open_browser,
        runner=False)


def serve_workbench(ws, *, host: str, port: int, announce=None, runner: bool = True) -> None:
    """`oralhist serve`: the workbench, plus the embedded job runner on SQLite."""
    run(ws, workbench_config(ws, host), host=host, port=port, announce=announce, runner=runner)


def start_workbench_in_thread(ws, *, host: str = "127.0.0.1", port: int = 0, runner: bool = True):
    """Tests and benchmarks: (server, cfg, base url, runner or None)."""
    from oralhist import jobs

    server, cfg, url = start_in_thread(ws, host=host, port=port, cfg=workbench_config(ws, host))
    run = jobs.EmbeddedRunner(ws).start() if runner and not jobs.is_network(ws) else None
    return server, cfg, url, run


@contextmanager
def workbench_in_thread(ws, **kw):
    """:func:`start_workbench_in_thread` as a ``with`` block: the server, then the job runner,
    stopped on leaving it."""
    server, cfg, url, run = start_workbench_in_thread(ws, **kw)
    try:
        yield server, cfg, url, run
    finally:
        server.should_exit = True
        server._thread.join(5)
        if run is not None:
            run.stop()
