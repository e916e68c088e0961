"""A tool's webhook endpoint for the tests: every POST is checked with the Standard Webhooks
reference library (PyPI `standardwebhooks`) against each secret in DIR/secrets.json
({name: "whsec_…"}, read on every request, so a test can rotate), and recorded as one JSON
file in DIR: the headers, the body, and the names of the secrets it verified with.

    python webhook_receiver.py PORT DIR"""

import http.server
import json
import os
import sys
import time

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from http_body import read_body


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = read_body(self)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                with open(os.path.join(directory, "secrets.json")) as f:
                    secrets = json.load(f)
            except FileNotFoundError:
                secrets = {}
            verified = []
            for name, secret in sorted(secrets.items()):
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(name)
                except WebhookVerificationError:
                    pass
            record = {"path": self.path, "headers": headers, "body": json.loads(body), "verified_with": verified}
            name = f"{time.time_ns()}.json"
            with open(os.path.join(directory, "." + name), "w") as f:
                json.dump(record, f)
            os.rename(os.path.join(directory, "." + name), os.path.join(directory, name))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
