"""fastapi_queue.py: GET /api/v1/queue as the FastAPI peer of `make bench`.

The same work as spiderpig-fcgi's authenticated queue read: the SHA-256 of
the Bearer token checked by spiderpig.auth_token() on every request, then
spiderpig.queue_page(0, 500), as the web role. SP_BENCH_DSN names the
database; SP_FASTAPI_MODE picks the form:

  idiomatic  a plain `def` endpoint (FastAPI runs it in its thread pool),
             connections from a psycopg2 pool through a dependency, the
             JSON parsed by psycopg2 and serialised again by FastAPI;
  tuned      an `async def` endpoint on one connection per process (no
             thread pool hop), the JSON passed through as text; run it
             with --loop uvloop --http httptools.
"""
import hashlib
import os

import psycopg2
import psycopg2.pool
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import Response

DSN = os.environ["SP_BENCH_DSN"]
MODE = os.environ.get("SP_FASTAPI_MODE", "idiomatic")
AUTH_SQL = "SELECT username, role FROM spiderpig.auth_token(%s)"
QUEUE_SQL = "SELECT spiderpig.queue_page(0, 500)"

app = FastAPI()


def token_hash(authorization):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401, detail="a valid API token is required")
    tok = authorization[len("Bearer "):].strip()
    return psycopg2.Binary(hashlib.sha256(tok.encode()).digest())


if MODE == "idiomatic":
    pool = psycopg2.pool.ThreadedConnectionPool(1, 40, DSN)

    def get_conn():
        conn = pool.getconn()
        conn.autocommit = True
        try:
            yield conn
        finally:
            pool.putconn(conn)

    def current_user(authorization: str = Header(None), conn=Depends(get_conn)):
        with conn.cursor() as cur:
            cur.execute(AUTH_SQL, (token_hash(authorization),))
            row = cur.fetchone()
        if row is None:
            raise HTTPException(status_code=401, detail="unknown, expired or revoked token")
        return {"name": row[0], "role": row[1]}

    @app.get("/api/v1/queue")
    def queue(user=Depends(current_user), conn=Depends(get_conn)):
        with conn.cursor() as cur:
            cur.execute(QUEUE_SQL)
            return cur.fetchone()[0]

else:
    conn_holder = {}

    def conn():
        c = conn_holder.get("c")
        if c is None or c.closed:
            c = psycopg2.connect(DSN)
            c.autocommit = True
            conn_holder["c"] = c
        return c

    @app.get("/api/v1/queue")
    async def queue(authorization: str = Header(None)):
        h = token_hash(authorization)
        with conn().cursor() as cur:
            cur.execute(AUTH_SQL, (h,))
            if cur.fetchone() is None:
                raise HTTPException(status_code=401, detail="unknown, expired or revoked token")
            cur.execute(QUEUE_SQL + "::text")
            body = cur.fetchone()[0]
        return Response(content=body, media_type="application/json")
