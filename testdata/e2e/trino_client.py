"""Queries the e2e Trino with the Python trino client (PyPI: trino), as
Querybook-style tools do, and prints the results as one JSON object.

server/e2e/python_test.go runs it in a venv with a pinned trino version:

    python trino_client.py --url https://127.0.0.1:PORT --ca cert.pem \
        --password alice=alice-pw --password admin=admin-pw --password bob=bob-pw
"""

import argparse
import json
import sys
from urllib.parse import urlparse

import trino
from trino.auth import BasicAuthentication

ORDERS = "SELECT id, region, email, amount FROM memory.sales.orders ORDER BY id"
DENIED = "SELECT count(*) FROM tpch.tiny.orders"


def connect(url, ca, user, password):
    u = urlparse(url)
    return trino.dbapi.connect(
        host=u.hostname,
        port=u.port,
        http_scheme=u.scheme,
        user=user,
        auth=BasicAuthentication(user, password),
        verify=ca,
        source="warden-e2e-python",
    )


def rows(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    out = cur.fetchall()
    return {"columns": [d[0] for d in cur.description], "rows": [list(r) for r in out]}


def failure(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        cur.fetchall()
    except trino.exceptions.TrinoUserError as e:
        return {
            "class": type(e).__module__ + "." + type(e).__name__,
            "error_name": e.error_name,
            "error_type": e.error_type,
            "message": e.message,
        }
    return {"class": None}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--password", action="append", default=[], help="user=password")
    a = p.parse_args()
    pw = dict(x.split("=", 1) for x in a.password)
    conns = {u: connect(a.url, a.ca, u, pw[u]) for u in ("alice", "admin", "bob")}
    print(json.dumps({
        "client_version": trino.__version__,
        "alice_orders": rows(conns["alice"], ORDERS),
        "admin_orders": rows(conns["admin"], ORDERS),
        "alice_current_user": rows(conns["alice"], "SELECT current_user")["rows"],
        "bob_denied": failure(conns["bob"], DENIED),
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
