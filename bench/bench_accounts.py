"""Accounts figures (issue 21): « Comptes » (/comptes) with 500 accounts, and the cost of the session
checks (idle timeout, absolute lifetime, disabled account) and of a logout per request.

- /comptes: time to the full HTML over loopback, median of 5 (after one warm-up), against a static
  file (/static/editor.css) served by the same server in the same run, also median of 5.
- session check: GET /api/me with a live session (the middleware looks the session up, checks its
  idle time, lifetime and account, writes last_seen_at at most every 30 s) against the same request
  without a session (answered 401 by the same middleware before any lookup): median of 200 each,
  interleaved. The difference is what the checks cost per request.
- logout: POST /api/logout (session deleted server-side, 204) after a login (not timed), median of 30,
  against the same request without a session; and the logout check: GET /api/me with the cookie of a
  logged-out session (looked up, refused 401) against the same request without a cookie, 200 each.
- the library call alone: ``accounts.session_user`` in process, median of 500.

The 500 accounts share one precomputed scrypt hash (listing never checks passwords; 500 scrypt
hashes would take ~25 s of CPU for nothing). SQLite, server in a thread of this process; CPU time
is this process's (server and client together).

Usage: python bench/bench_accounts.py [--accounts 500]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

PW = "correct horse battery"


def timed(opener, method, url, *, headers=None, data=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    t = time.perf_counter()
    try:
        with opener.open(req) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return time.perf_counter() - t, status, len(body)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=500)
    args = ap.parse_args()

    from oralhist import db
    from oralhist.archive.workspace import init
    from oralhist.editorial import accounts
    from oralhist.records import EditorAccount, Museum
    from oralhist.web.server import start_workbench_in_thread

    tmp = Path(tempfile.mkdtemp(prefix="bench-accounts-"))
    ws = init(tmp / "archive", title="Banc d’essai")
    accounts.set_account(ws, "admin", PW, role="admin")
    shared = accounts.hash_password("not used")
    roles = list(accounts.ROLES)
    with db.session(ws) as s:
        museums = []
        for i in range(20):
            m = Museum(name=f"Musée {i:03d}")
            s.add(m)
            s.flush()
            museums.append(m.id)
        for i in range(args.accounts - 1):
            s.add(EditorAccount(name=f"personne-{i:04d}", password_hash=shared, role=roles[i % len(roles)],
                                museum_id=museums[i % len(museums)], disabled=i % 17 == 0))
        s.commit()

    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    base = url.rstrip("/")
    jar = CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    bare = urllib.request.build_opener()

    def login(opener):
        req = urllib.request.Request(base + "/api/login", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"login": "admin", "password": PW}).encode())
        with opener.open(req) as r:
            return json.loads(r.read())["csrf"]

    out = {"accounts": args.accounts, "load_before": os.getloadavg()}
    try:
        login(op)
        html = {"Accept": "text/html"}
        timed(op, "GET", base + "/comptes", headers=html)  # warm-up (templates, first queries)
        timed(op, "GET", base + "/static/editor.css")
        page, static, cpu_page, cpu_static = [], [], 0.0, 0.0
        for _ in range(5):
            c0 = time.process_time()
            dt, st, n = timed(op, "GET", base + "/comptes", headers=html)
            c1 = time.process_time()
            assert st == 200, st
            page.append(dt)
            page_bytes = n
            dt, st, _n = timed(op, "GET", base + "/static/editor.css")
            cpu_page += c1 - c0
            cpu_static += time.process_time() - c1
            static.append(dt)
        out["comptes_ms"] = round(statistics.median(page) * 1000, 1)
        out["comptes_all_ms"] = [round(x * 1000, 1) for x in page]
        out["comptes_bytes"] = page_bytes
        out["static_ms"] = round(statistics.median(static) * 1000, 2)
        out["comptes_cpu_ms"] = round(cpu_page / 5 * 1000, 1)
        out["static_cpu_ms"] = round(cpu_static / 5 * 1000, 1)

        # session checks: with a session vs without (same route, same middleware)
        with_s, without, cpu_with, cpu_without = [], [], 0.0, 0.0
        for _ in range(10):  # interleaved blocks of 20, so both kinds see the same load
            c0 = time.process_time()
            for _ in range(20):
                dt, st, _n = timed(op, "GET", base + "/api/me")
                assert st == 200, st
                with_s.append(dt)
            c1 = time.process_time()
            for _ in range(20):
                dt, st, _n = timed(bare, "GET", base + "/api/me")
                assert st == 401, st
                without.append(dt)
            cpu_with += c1 - c0
            cpu_without += time.process_time() - c1
        out["me_with_session_ms"] = round(statistics.median(with_s) * 1000, 2)
        out["me_without_session_ms"] = round(statistics.median(without) * 1000, 2)
        out["session_check_ms"] = round((statistics.median(with_s) - statistics.median(without)) * 1000, 2)
        out["me_with_session_cpu_ms"] = round(cpu_with / len(with_s) * 1000, 2)
        out["me_without_session_cpu_ms"] = round(cpu_without / len(without) * 1000, 2)
        out["session_check_cpu_ms"] = round((cpu_with / len(with_s) - cpu_without / len(without)) * 1000, 2)

        # logout: POST /api/logout after a login (the login is not timed)
        outs, outs_bare, cpu_out, cpu_bare = [], [], 0.0, 0.0
        for _ in range(30):
            j = CookieJar()
            o = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(j))
            csrf = login(o)
            old_cookie = "; ".join(f"{c.name}={c.value}" for c in j)  # replayed below, after the logout
            c0 = time.process_time()
            dt, st, _n = timed(o, "POST", base + "/api/logout", headers={"X-CSRF-Token": csrf}, data=b"")
            cpu_out += time.process_time() - c0
            assert st == 204, st
            outs.append(dt)
            assert timed(o, "GET", base + "/api/me")[1] == 401  # the session is gone server-side
            c0 = time.process_time()
            dt, st, _n = timed(bare, "POST", base + "/api/logout", headers={"X-CSRF-Token": csrf}, data=b"")
            cpu_bare += time.process_time() - c0
            assert st == 401, st
            outs_bare.append(dt)
        out["logout_ms"] = round(statistics.median(outs) * 1000, 2)
        out["logout_without_session_ms"] = round(statistics.median(outs_bare) * 1000, 2)
        out["logout_extra_ms"] = round((statistics.median(outs) - statistics.median(outs_bare)) * 1000, 2)
        out["logout_cpu_ms"] = round(cpu_out / 30 * 1000, 2)

        # the logout check: a replayed cookie of a logged-out session (looked up, not found: 401)
        # against the same request with no cookie at all
        replayed, cpu_rep, cpu_none, none_ = [], 0.0, 0.0, []
        for _ in range(10):
            c0 = time.process_time()
            for _ in range(20):
                dt, st, _n = timed(bare, "GET", base + "/api/me", headers={"Cookie": old_cookie})
                assert st == 401, st
                replayed.append(dt)
            c1 = time.process_time()
            for _ in range(20):
                dt, st, _n = timed(bare, "GET", base + "/api/me")
                none_.append(dt)
            cpu_rep += c1 - c0
            cpu_none += time.process_time() - c1
        out["replayed_cookie_ms"] = round(statistics.median(replayed) * 1000, 2)
        out["no_cookie_ms"] = round(statistics.median(none_) * 1000, 2)
        out["logout_check_ms"] = round((statistics.median(replayed) - statistics.median(none_)) * 1000, 2)
        out["logout_check_cpu_ms"] = round((cpu_rep - cpu_none) / len(replayed) * 1000, 2)
        out["logout_without_session_cpu_ms"] = round(cpu_bare / 30 * 1000, 2)

        # the library call alone
        token, _ = accounts.open_session(ws, "admin")
        calls = []
        c0 = time.process_time()
        for _ in range(500):
            t = time.perf_counter()
            assert accounts.session_user(ws, token) is not None
            calls.append(time.perf_counter() - t)
        out["session_user_call_ms"] = round(statistics.median(calls) * 1000, 3)
        out["session_user_call_cpu_ms"] = round((time.process_time() - c0) / 500 * 1000, 3)
    finally:
        server.should_exit = True
        server._thread.join(5)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
