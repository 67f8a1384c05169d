#!/usr/bin/env python3
"""Connect a fresh Metabase to taizhang's reporting schema (the compose `metabase-setup` service).

Waits for Metabase's /api/health, creates the admin account through the setup API if Metabase is
not set up yet, logs in, and adds the taizhang PostgreSQL database with the BI login (a member of
taizhang_analytics, created by deploy/postgres/initdb/10-taizhang-roles.sh), restricted to the
`reporting` schema. Running it again adds nothing: a database of the same name is left alone.

Standard library only, so it runs on the plain python image. Configuration by environment:
MB_URL, MB_ADMIN_EMAIL, MB_ADMIN_PASSWORD, MB_SITE_NAME, TAIZHANG_DB_HOST, TAIZHANG_DB_PORT,
TAIZHANG_DB_NAME, METABASE_DB_USER, METABASE_DB_PASSWORD, MB_DATABASE_NAME, MB_WAIT_SECONDS.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

# The schema BI tools may see: the public contract (docs/bi.md). The login could read nothing
# else anyway; the filter keeps Metabase from listing empty schemas.
REPORTING_SCHEMA = "reporting"


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None or value == "":
        sys.exit(f"metabase-setup: {name} is not set (未设置 {name})")
    return value


def call(base, method, path, body=None, session=None):
    """One JSON request; returns the decoded answer or raises with Metabase's own message."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if session:
        request.add_header("X-Metabase-Session", session)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:2000]
        raise RuntimeError(f"{method} {path}: HTTP {error.code}: {detail}") from None
    return json.loads(raw) if raw.strip() else None


def wait_until_healthy(base, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if (call(base, "GET", "/api/health") or {}).get("status") == "ok":
                return
        except (OSError, RuntimeError, ValueError):
            pass  # still starting: connection refused, 503, or a half-written answer
        if time.monotonic() > deadline:
            sys.exit(f"metabase-setup: {base}/api/health not ok after {seconds} s (Metabase 未就绪)")
        time.sleep(3)


def main():
    base = env("MB_URL", "http://metabase:3000").rstrip("/")
    email = env("MB_ADMIN_EMAIL")
    password = env("MB_ADMIN_PASSWORD")
    database_name = env("MB_DATABASE_NAME", "taizhang 台账")
    details = {
        "host": env("TAIZHANG_DB_HOST", "postgres"),
        "port": int(env("TAIZHANG_DB_PORT", "5432")),
        "dbname": env("TAIZHANG_DB_NAME", "taizhang"),
        "user": env("METABASE_DB_USER"),
        "password": env("METABASE_DB_PASSWORD"),
        "ssl": False,
        "tunnel-enabled": False,
        "advanced-options": False,
        "schema-filters-type": "inclusion",
        "schema-filters-patterns": REPORTING_SCHEMA,
    }

    wait_until_healthy(base, int(env("MB_WAIT_SECONDS", "600")))

    # A fresh Metabase hands out a setup token until the first admin exists.
    properties = call(base, "GET", "/api/session/properties") or {}
    token = properties.get("setup-token")
    if token and not properties.get("has-user-setup"):
        call(base, "POST", "/api/setup", {
            "token": token,
            "user": {
                "first_name": "taizhang",
                "last_name": "admin",
                "email": email,
                "password": password,
                "password_confirm": password,
                "site_name": env("MB_SITE_NAME", "taizhang 台账"),
            },
            "prefs": {
                "site_name": env("MB_SITE_NAME", "taizhang 台账"),
                "site_locale": "zh",
                "allow_tracking": False,
            },
        })
        print(f"metabase-setup: admin {email} created")

    session = call(base, "POST", "/api/session", {"username": email, "password": password})["id"]
    answer = call(base, "GET", "/api/database", session=session)
    # Older versions answer a bare list, newer ones {"data": [...]}.
    existing = answer.get("data", []) if isinstance(answer, dict) else answer
    if any(database.get("name") == database_name for database in existing):
        print(f"metabase-setup: database {database_name!r} already connected; nothing to do")
        return
    created = call(base, "POST", "/api/database", {
        "engine": "postgres",
        "name": database_name,
        "details": details,
        "is_full_sync": True,
    }, session=session)
    print(
        f"metabase-setup: connected {database_name!r} (id {created.get('id')}) as "
        f"{details['user']}@{details['host']}:{details['port']}/{details['dbname']}, "
        f"schema {REPORTING_SCHEMA} only"
    )


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as error:
        sys.exit(f"metabase-setup: {error}")
