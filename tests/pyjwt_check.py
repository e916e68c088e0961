#!/usr/bin/env python3
"""Verifies scoped tokens minted by the registry with PyJWT, another language's standard
JWT library, using only what the registry publishes: the JWKS and the PEM public key.

usage: pyjwt_check.py BASE ISSUER SUB --valid T [--valid T ...] --pem-valid T --expired T
"""
import argparse
import json
import sys
import time
import urllib.request

import jwt

p = argparse.ArgumentParser()
p.add_argument("base")
p.add_argument("issuer")
p.add_argument("sub")
p.add_argument("--valid", action="append", default=[])
p.add_argument("--pem-valid", action="append", default=[])
p.add_argument("--expired", action="append", default=[])
args = p.parse_args()

def get(path):
    with urllib.request.urlopen(args.base + path) as r:
        return r.read()

jwks = jwt.PyJWKSet.from_dict(json.loads(get("/.well-known/jwks.json")))
by_kid = {k.key_id: k for k in jwks.keys}
pem = get("/authz/public_key").decode()
assert pem.startswith("-----BEGIN PUBLIC KEY-----"), pem

def check(claims):
    assert claims["sub"] == args.sub, claims
    assert claims["iss"] == args.issuer, claims
    assert isinstance(claims["scopes"], str), claims
    for c in ("iat", "nbf", "exp", "jti", "name"):
        assert c in claims, (c, claims)

for token in args.valid:
    kid = jwt.get_unverified_header(token)["kid"]
    key = by_kid[kid]
    check(jwt.decode(token, key, algorithms=[key.algorithm_name], issuer=args.issuer))
    print("verified with the JWKS, kid", kid)

for token in args.pem_valid:
    check(jwt.decode(token, pem, algorithms=["EdDSA", "ES256", "RS256"], issuer=args.issuer))
    print("verified with the PEM public key")


def refused(token, error, said, failure):
    """PyJWT refuses `token` (verified with the JWKS key its kid names) with `error`."""
    key = by_kid[jwt.get_unverified_header(token)["kid"]]
    try:
        jwt.decode(token, key, algorithms=[key.algorithm_name], issuer=args.issuer)
    except error:
        print(said)
    else:
        sys.exit(failure)


for token in args.expired:
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0, exp - time.time() + 1.1))
    refused(token, jwt.ExpiredSignatureError, "refused after expiry", "an expired token verified")

# A forged signature never verifies.
if args.valid:
    head, body, sig = args.valid[0].split(".")
    forged = ".".join([head, body, ("A" if sig[0] != "A" else "B") + sig[1:]])
    refused(forged, jwt.InvalidSignatureError, "refused a forged signature", "a forged token verified")
