"""Create the PostgreSQL database named by DATABASE_URL if it does not exist.

Used by ``make serve``; does nothing for SQLite. Connects to the server's
``postgres`` database with the same credentials.
"""

from __future__ import annotations

import os
import sys

import dj_database_url


def main() -> int:
    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in cfg["ENGINE"]:
        return 0
    import psycopg
    from psycopg import sql

    params = {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": cfg.get("PORT") or 5432,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    name = cfg["NAME"]
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return 0
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"created database {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
