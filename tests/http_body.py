"""The body of a request to a test receiver, sent with a length or chunked (Spin's
outbound HTTP sends chunked)."""


def read_body(request):
    """Reads the body of `request` (an http.server.BaseHTTPRequestHandler)."""
    if request.headers.get("transfer-encoding", "").lower() != "chunked":
        return request.rfile.read(int(request.headers.get("content-length", 0)))
    body = b""
    while True:
        size = int(request.rfile.readline().split(b";")[0], 16)
        if size == 0:
            request.rfile.readline()
            return body
        body += request.rfile.read(size)
        request.rfile.readline()
