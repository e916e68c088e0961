"""A stand-in for Azure Communication Services Email that checks requests as ACS does: the
body's SHA-256 (`x-ms-content-sha256`), the date (`x-ms-date`, within 15 minutes), and the
HMAC-SHA256 signature over `POST\\n<path and query>\\n<date>;<host>;<hash>` keyed with the
access key. Each request becomes one JSON file in a directory (what was sent, and whether
and why it verified); a verified one is answered 202 as ACS answers, any other 401.

    python acs_receiver.py HTTP_PORT HTTPS_PORT ACCESS_KEY DIR

HTTP for the application (as a test's loopback endpoint), HTTPS with a self-signed
certificate for Azure's own SDK, which speaks only HTTPS."""

import base64
import datetime
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import ssl
import sys
import tempfile
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from http_body import read_body


def verify(method, path, headers, body, key):
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if headers.get("x-ms-content-sha256") != digest:
        return "x-ms-content-sha256 is not the body's SHA-256"
    date = headers.get("x-ms-date", "")
    try:
        sent = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "x-ms-date is not an HTTP date"
    if abs((datetime.datetime.now(datetime.timezone.utc) - sent).total_seconds()) > 900:
        return "x-ms-date is more than 15 minutes off"
    auth = headers.get("authorization", "")
    prefix = "HMAC-SHA256 SignedHeaders="
    if not auth.startswith(prefix) or "&Signature=" not in auth:
        return "Authorization is not HMAC-SHA256"
    signed, signature = auth[len(prefix):].split("&Signature=", 1)
    names = signed.split(";")
    if names != ["x-ms-date", "host", "x-ms-content-sha256"]:
        return f"signed headers {signed}"
    values = ";".join(headers.get(n, "") for n in names)
    to_sign = f"{method}\n{path}\n{values}"
    expected = base64.b64encode(hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        return "the signature does not verify with the access key"
    return None


def handler(listener, key, directory):
    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = read_body(self)
            headers = {k.lower(): v for k, v in self.headers.items()}
            reason = verify("POST", self.path, headers, body, key)
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            record = {"listener": listener, "path": self.path, "headers": headers, "body": parsed,
                      "verified": reason is None, "reason": reason}
            name = f"{time.time_ns()}-{listener}.json"
            with open(os.path.join(directory, "." + name), "w") as f:
                json.dump(record, f)
            os.rename(os.path.join(directory, "." + name), os.path.join(directory, name))
            if reason is None:
                scheme = "https" if listener == "https" else "http"
                self.send_response(202)
                self.send_header("operation-location",
                                 f"{scheme}://{headers.get('host')}/emails/operations/{name}?api-version=2025-09-01")
                answer = {"id": name, "status": "Running"}
            else:
                self.send_response(401)
                answer = {"error": {"code": "Denied", "message": reason}}
            data = json.dumps(answer).encode()
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            data = json.dumps({"id": self.path.split("/")[-1].split("?")[0], "status": "Succeeded"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return H


def self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_file, key_file


def main():
    http_port, https_port, key, directory = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    os.makedirs(directory, exist_ok=True)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", http_port), handler("http", key, directory))
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", https_port), handler("https", key, directory))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(tempfile.mkdtemp()))
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=tls.serve_forever, daemon=True).start()
    print("ready", flush=True)
    plain.serve_forever()


if __name__ == "__main__":
    main()
