"""Small WSGI apps that the browser tests call cross-origin."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response


@Request.application
def hello_api(request: Request) -> Response:
    """Answer GET /hello with JSON, allowing any origin (no credentials)."""
    if request.path != "/hello":
        return Response("not found", status=404, headers={"Access-Control-Allow-Origin": "*"})
    body = json.dumps({"message": "hello from the API", "origin": request.headers.get("Origin")})
    return Response(body, mimetype="application/json", headers={"Access-Control-Allow-Origin": "*"})
