"""IBM's published REST example with `requests`: log on with the XML LogonRequest (IBM's form:
schemaVersion V1_1_0, Metadata, kb/kxe attributes), GET the managed systems, then log off with
`requests.delete(url, headers={'X-API-Session': token}, verify=False)`. Prints the statuses as
JSON; the token is never printed.

usage: ibm_logoff.py BASE_URL USER PASSWORD
"""
import json
import sys
from xml.sax.saxutils import escape

import requests
import urllib3

urllib3.disable_warnings()
base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
url = base + "/rest/api/web/Logon"
body = (
    '<LogonRequest xmlns="http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/" '
    'schemaVersion="V1_1_0"><Metadata><Atom/></Metadata>'
    '<UserID kb="CUR" kxe="false">%s</UserID><Password kb="CUR" kxe="false">%s</Password>'
    "</LogonRequest>" % (escape(user), escape(password))
)
headers = {
    "Content-Type": "application/vnd.ibm.powervm.web+xml; type=LogonRequest",
    "Accept": "application/vnd.ibm.powervm.web+xml; type=LogonResponse",
    "X-Audit-Memento": "ibm-example",
}
logon = requests.put(url, data=body, headers=headers, verify=False)
ns = "{http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/}"
import xml.etree.ElementTree as ET

token = ET.fromstring(logon.content).findtext(ns + "X-API-Session")
systems = requests.get(base + "/rest/api/uom/ManagedSystem",
                       headers={"X-API-Session": token, "Accept": "application/atom+xml"},
                       verify=False)
logoff = requests.delete(url, headers={"X-API-Session": token}, verify=False)
print(json.dumps({"logon": logon.status_code, "token_length": len(token or ""),
                  "get": systems.status_code, "logoff": logoff.status_code}))
