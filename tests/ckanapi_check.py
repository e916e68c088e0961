"""Drives the CKAN-compatible API with the real ckanapi client, as downstream scripts do.
Usage: python3 ckanapi_check.py BASE_URL ORG_NAME DATASET_NAME; exits non-zero on failure."""

import sys

import ckanapi

base, org, dataset = sys.argv[1:4]
ckan = ckanapi.RemoteCKAN(base, user_agent="ryd-e2e")

found = ckan.action.package_search(fq="organization:" + org, rows=1000000)
assert found["count"] == 2, found["count"]
assert {d["name"] for d in found["results"]} == {dataset, org + "-orgfile"}, found["results"]

shown = ckan.action.package_show(id=dataset)
assert shown["name"] == dataset and shown["resources"][0]["format"] == "IATI-XML", shown

orgs = ckan.action.organization_list(all_fields=True)
assert [o["name"] for o in orgs] == [org], orgs

publisher = ckan.action.organization_show(id=org)
assert publisher["publisher_iati_id"] == "XM-DAC-41114", publisher

try:
    ckan.action.package_show(id="no-such-dataset")
    raise AssertionError("package_show of a missing dataset did not raise NotFound")
except ckanapi.NotFound:
    pass

try:
    ckan.action.package_create(name="x", owner_org=org)
    raise AssertionError("package_create did not raise NotAuthorized")
except ckanapi.NotAuthorized:
    pass

try:
    ckan.action.package_search(fq="colour:red")
    raise AssertionError("an unparseable fq did not raise SearchQueryError")
except ckanapi.SearchQueryError:
    pass

print("ckanapi: all calls answered as CKAN does")
