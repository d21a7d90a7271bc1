"""A monitoring script as people write them with IBM's pypowervm: log on, read the managed
systems, print what it found as JSON, and exit. With --logoff it logs off first (pypowervm
has no public logoff: Session._logoff is what its __del__ calls); without, it relies on
Session.__del__ at interpreter exit, as the cron job that leaked did.

usage: pypowervm_stats.py HOST PORT USER PASSWORD [--logoff] [--memento M]
"""
import json
import sys

from pypowervm import adapter as pvm_adpt

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
memento = sys.argv[sys.argv.index("--memento") + 1] if "--memento" in sys.argv else None

# certpath=None: no certificate validation (the simulator's certificate is self-signed).
session = pvm_adpt.Session(host, user, password, port=port, protocol="https",
                           certpath=None, auditmemento=memento)
adapter = pvm_adpt.Adapter(session)
resp = adapter.read("ManagedSystem")
names = [e.element.findtext("SystemName") for e in resp.feed.entries]
# A second read with the ETag: the HMC answers 304.
again = adapter.read("ManagedSystem", etag=resp.etag)
print(json.dumps({"status": resp.status, "etag": resp.etag, "systems": names,
                  "second_status": again.status}))
sys.stdout.flush()
if "--logoff" in sys.argv:
    session._logoff()
