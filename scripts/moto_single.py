"""The AWS API emulator (moto) serving one request at a time.

moto's own `moto_server` answers requests on several threads, and moto is
not thread-safe (concurrent DescribeInstances calls sometimes fail with a
500 and lose a page). The tests start this instead:

    python scripts/moto_single.py PORT [DELAY_MS]

It listens on 127.0.0.1 only. With DELAY_MS, every request first waits
that long (a stand-in for a real API's round trip; the waits of
concurrent requests overlap, as they would over a network), then moto
answers it, still one request at a time.
"""

import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class Delayed:
    """A WSGI app that waits, then lets `app` answer under one lock."""

    def __init__(self, app, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        time.sleep(self.seconds)
        with self.lock:
            return list(self.app(environ, start_response))


def main() -> None:
    port = int(sys.argv[1])
    delay_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    app = DomainDispatcherApplication(create_backend_app)
    if delay_ms > 0:
        run_simple("127.0.0.1", port, Delayed(app, delay_ms / 1000), threaded=True, use_reloader=False)
    else:
        run_simple("127.0.0.1", port, app, threaded=False, processes=1, use_reloader=False)


if __name__ == "__main__":
    main()
