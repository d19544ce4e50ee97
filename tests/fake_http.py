"""A throwaway HTTP server on localhost for tests of clients of other services
(OSRM): the test says what each GET answers; the server only carries it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# What a GET of a path answers: a status and a JSON body, or raw bytes for a
# server that answers something else than JSON.
Answer = tuple[int, dict[str, object] | bytes]


@contextmanager
def serving(answer: Callable[[str], Answer]) -> Iterator[str]:
    """Serves ``answer(path)`` for every GET; yields the base URL, with no slash."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            status, body = answer(self.path)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            if not isinstance(body, bytes):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
