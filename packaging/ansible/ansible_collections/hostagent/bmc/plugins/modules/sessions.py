#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sessions
short_description: Clean stale in-band BMC Redfish sessions through hostagentd
description:
  - Deletes the stale in-band Redfish sessions on this host's BMC by hostagentd's policy, through
    C(agentctl --json clean). A person's sessions (Web UI, remote console, shell, IPMI) and the
    agent's own session are never deleted; there is no option to force that.
  - Reports a change only when there was something to delete, so a second run is unchanged.
  - In check mode runs C(agentctl --json clean --dry-run) and deletes nothing; C(deleted) then
    lists what would be deleted.
  - A hostagentd that does not answer (not running, BMC unreachable, not permitted) fails the
    task with agentctl's own message and exit code.
version_added: 0.1.0
author:
  - hostagent
requirements:
  - hostagentd running on the host, and agentctl (both from the hostagent package)
options:
  state:
    description:
      - V(clean) deletes the stale sessions that the policy and the filters select.
    type: str
    choices: [clean]
    default: clean
  kinds:
    description:
      - Clean only sessions of these kinds (for example V(rest-host), V(host-application)).
      - Empty means the in-band kinds configured in C(reaper.kinds) of hostagent.toml.
    type: list
    elements: str
    default: []
  idle:
    description:
      - Idle threshold in minutes; only sessions unused for longer are stale.
      - Unset means C(reaper.idle) of hostagent.toml.
    type: int
  socket:
    description:
      - hostagentd's API socket.
    type: path
    default: /run/hostagent/agent.sock
  agentctl:
    description:
      - Path to the agentctl binary.
    type: path
    default: /usr/bin/agentctl
  timeout:
    description:
      - Seconds to wait for agentctl before failing the task; agentctl itself can wait for a
        daemon that is still logging in to the BMC.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - The task runs as a user that may clean (root or a member of C(api.admin_group)); a reader
    gets exit code 5 (not permitted).
seealso:
  - module: hostagent.bmc.info
"""

EXAMPLES = r"""
- name: Clean the stale in-band BMC sessions by the daemon's policy
  hostagent.bmc.sessions:
    state: clean

- name: Clean only host-application sessions idle for more than 30 minutes
  hostagent.bmc.sessions:
    kinds: [host-application]
    idle: 30
  register: cleaned

- name: Show what would be deleted, deleting nothing
  hostagent.bmc.sessions:
    state: clean
  check_mode: true
  register: preview
"""

RETURN = r"""
changed:
  description: Whether sessions were deleted (in check mode, whether some would be).
  returned: always
  type: bool
deleted:
  description: The sessions deleted; in check mode, those that would be deleted.
  returned: success
  type: list
  elements: dict
  sample: [{"id": "a1b2c3", "kind": "rest-host", "user": "System Administrator"}]
kept:
  description: The sessions left, each with the reason (a person's, the agent's own, not idle).
  returned: success
  type: list
  elements: dict
  sample: [{"id": "d4e5f6", "kind": "web-ui", "reason": "kind web-ui is not cleaned by this policy"}]
errors:
  description:
    - Sessions whose delete the BMC refused, each with its error (agentctl's C(failed)); the task
      fails when this is not empty. Named so because Ansible reserves C(failed).
  returned: success and when deletes failed
  type: list
  elements: dict
rc:
  description: agentctl's exit code, when the task failed after agentctl ran.
  returned: failure
  type: int
code:
  description: agentctl's error code (for example C(not_running), C(bmc_unreachable), C(forbidden)).
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostagent.bmc.plugins.module_utils.agentctl import (
    COMMON_OPTIONS,
    AgentctlError,
    fail,
    run,
)


def clean_args(params, dry_run):
    args = ["clean"]
    if dry_run:
        args.append("--dry-run")
    for kind in params["kinds"]:
        args += ["--kind", kind]
    if params["idle"] is not None:
        args += ["--idle", str(params["idle"])]
    return args


def main():
    spec = dict(
        state=dict(type="str", choices=["clean"], default="clean"),
        kinds=dict(type="list", elements="str", default=[]),
        idle=dict(type="int"),
    )
    spec.update(COMMON_OPTIONS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    if params["idle"] is not None and params["idle"] < 0:
        module.fail_json(msg="hostagent: idle must be a number of minutes >= 0, got %d" % params["idle"])
    try:
        _, report = run(params, clean_args(params, module.check_mode))
    except AgentctlError as e:
        fail(module, e, changed=False)
        return
    deleted = report.get("deleted", [])
    kept = report.get("kept", [])
    failed = report.get("failed", [])
    if failed:
        module.fail_json(
            msg="hostagent: %d stale sessions could not be deleted: %s"
            % (len(failed), "; ".join("%s: %s" % (f.get("id"), f.get("error")) for f in failed)),
            changed=bool(deleted),
            deleted=deleted,
            kept=kept,
            errors=failed,
        )
    module.exit_json(changed=bool(deleted), deleted=deleted, kept=kept, errors=failed)


if __name__ == "__main__":
    main()
