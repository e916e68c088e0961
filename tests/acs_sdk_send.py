"""Sends one email with Azure's own SDK (azure-communication-email), the independent
reference for what a request to ACS Email looks like and how it is signed.

    python acs_sdk_send.py ENDPOINT ACCESS_KEY MESSAGE_JSON

The endpoint is the test's HTTPS receiver with a self-signed certificate, so certificate
verification is off for this one call."""

import json
import sys
import warnings

from azure.communication.email import EmailClient

warnings.filterwarnings("ignore")
endpoint, key, message = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = EmailClient.from_connection_string(f"endpoint={endpoint}/;accesskey={key}")
try:
    client.begin_send(message, connection_verify=False, polling_interval=0.1).result()
    print("sent")
except Exception as e:  # the receiver refused it: say so, the test decides
    print(f"refused: {e}")
