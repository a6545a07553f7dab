"""The AWS API emulator (moto) serving one request at a time.

moto's own `moto_server` answers requests on several threads, and moto is
not thread-safe (concurrent DescribeInstances calls sometimes fail with a
500 and lose a page). The tests start this instead:

    python scripts/moto_single.py PORT

It listens on 127.0.0.1 only.
"""

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, processes=1, use_reloader=False)


if __name__ == "__main__":
    main()
