"""DMTF python-redfish-library: session login, one GET, logout. Prints JSON facts for the test."""
import json
import sys

import redfish

base_url, user, password, path = sys.argv[1:5]
client = redfish.redfish_client(base_url=base_url, username=user, password=password, max_retry=1)
client.login(auth="session")
resp = client.get(path)
facts = {"status": resp.status, "body": resp.dict, "session_location": client.get_session_location()}
client.logout()
print(json.dumps(facts))
