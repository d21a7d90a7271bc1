"""OpenStack sushy: session auth, read the system, then drop the client (its __del__ logs out).
Prints JSON facts for the test."""
import gc
import json
import sys

import sushy

base_url, user, password, system = sys.argv[1:5]
root = sushy.Sushy(base_url + "/redfish/v1/", username=user, password=password, verify=False)
s = root.get_system(system)
facts = {"power_state": str(s.power_state), "identity": s.identity}
del s, root
gc.collect()
print(json.dumps(facts))
