vcl 4.1;
# Varnish in front of the public read APIs (the read SpinApp: CKAN's API, the Dashboard's
# API and the change feed; also the licence list and the authorisation service's public
# keys). The origin decides what is kept and for how long: every public read says
# `Cache-Control: public, max-age=…, stale-while-revalidate=…, stale-if-error=…` and an
# entity tag; everything that answers a credential says `private, no-store`. This file
# adds only what Varnish does not do by itself (infra/README.md, "A shared cache").
#
# Operators set the backend below (tests/tests/cache.rs rewrites it to the ephemeral port
# of the server under test), then: varnishd -a :80 -f register-your-data.vcl -s malloc,256m

backend read_api {
    .host = "127.0.0.1";
    .port = "3000";
}

sub vcl_recv {
    # Only reads can be answered from the cache.
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # A request with a credential never reads from the cache, and its answer is never
    # kept (Varnish's built-in rules do the same; said here so no edit below undoes it).
    if (req.http.Authorization || req.http.Cookie) {
        return (pass);
    }
    # The key is the host and the whole URL as sent: answers repeat their query string in
    # their links, so no reordering of it here.
    return (hash);
}

sub vcl_backend_response {
    # Varnish keeps an answer for its `max-age` and serves it stale for its
    # `stale-while-revalidate` while it fetches a fresh one in the background (its grace);
    # `private`, `no-store` and `Set-Cookie` are never kept (its built-in rules).
    # `stale-if-error` is for the CDNs that honour it (RFC 5861); Varnish does not.
    # An origin error is never kept in place of a good answer.
    if (beresp.status >= 500) {
        set beresp.uncacheable = true;
        set beresp.ttl = 1s;
        return (deliver);
    }
}

sub vcl_deliver {
    # Whether this answer came from the cache (for operators and the tests).
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
