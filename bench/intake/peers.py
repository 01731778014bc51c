"""Peers of ``idealdiff serve`` for the intake benchmark: the same stack doing less.

- ``bare``: FastAPI on uvicorn reading the body and answering 202 (the ceiling of the stack);
- ``durable``: the same, plus the signature check, ``json.loads`` and one
  ``AppStore.accept_delivery`` with one job (the durable write, without idealdiff's payload
  models, logging and metrics).

Run as ``python bench/intake/peers.py bare|durable --port P --db PATH``; uvicorn is started as
``app.service.http.serve`` starts it, so both use whichever loop and HTTP parser are installed.
"""

from __future__ import annotations

import argparse
import json
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.service.http import verify_signature
from app.store.records import NewJob
from app.store.sqlite import AppStore


def bare_app() -> FastAPI:
    """An endpoint that reads the body and does nothing else."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.post("/webhook")
    async def webhook(request: Request) -> Response:
        await request.body()
        return JSONResponse({"status": "accepted", "jobs": []}, status_code=202)

    return app


def durable_app(secret: str, store: AppStore) -> FastAPI:
    """An endpoint that verifies, parses and records the delivery with one job, then answers."""
    app = bare_app()
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", "") != "/webhook"]

    @app.post("/webhook")
    async def webhook(request: Request) -> Response:
        body = await request.body()
        if not verify_signature(secret, body, request.headers.get("x-hub-signature-256")):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        payload = json.loads(body)
        delivery = request.headers["x-github-delivery"]
        job = NewJob("command", {"repo": payload["repository"]["full_name"]})
        ids = await run_in_threadpool(
            store.accept_delivery,
            delivery,
            request.headers["x-github-event"],
            payload.get("action"),
            time.time(),
            [job],
        )
        status = 200 if ids is None else 202
        return JSONResponse({"status": "ok", "jobs": ids or []}, status_code=status)

    return app


def main() -> int:
    """Serve one peer until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["bare", "durable"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", default="peer.sqlite3")
    parser.add_argument("--secret", default="bench-webhook-secret")
    args = parser.parse_args()
    app = bare_app() if args.kind == "bare" else durable_app(args.secret, AppStore(args.db))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
