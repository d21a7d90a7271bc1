#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: info
short_description: hostagentd's status as facts
description:
  - Reads C(agentctl --json status) and sets it as the fact C(hostagent) - the BMC endpoint, the
    transport, the agent's session, the BMC's sessions by kind and by owner, the session limit
    when known, and the proxy's virtual sessions and leases.
  - Changes nothing; runs the same in check mode.
  - A hostagentd that does not answer fails the task with agentctl's own message and exit code.
version_added: 0.1.0
author:
  - hostagent
requirements:
  - hostagentd running on the host, and agentctl (both from the hostagent package)
options:
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
      - Seconds to wait for agentctl before failing the task.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
notes:
  - Reading needs root or membership of C(api.reader_group) (or C(api.admin_group)).
seealso:
  - module: hostagent.bmc.sessions
"""

EXAMPLES = r"""
- name: Read hostagentd's status
  hostagent.bmc.info:

- name: Warn when the table is at 80 % of its limit
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: {{ hostagent.sessions.total }} of {{ hostagent.limit }} BMC sessions"
  when: (hostagent.limit or 0) > 0 and hostagent.sessions.total >= 0.8 * hostagent.limit
"""

RETURN = r"""
ansible_facts:
  description: The fact C(hostagent), which is C(agentctl --json status) as agentctl prints it.
  returned: success
  type: complex
  contains:
    hostagent:
      description: hostagentd's status.
      type: dict
      contains:
        endpoint:
          description: The BMC's Redfish endpoint the daemon uses.
          type: str
          sample: https://16.1.15.1
        transport:
          description: How the daemon reaches the BMC (C(https) or C(chif)).
          type: str
          sample: https
        auth:
          description: C(session), or C(basic) when the table was full at login.
          type: str
        agent_session:
          description: Whether the agent holds its session.
          type: bool
        limit:
          description: The BMC's session limit, null while unknown.
          type: int
          sample: 14
        sessions:
          description: The BMC's sessions from the last listing - C(total), C(by_kind), C(by_owner).
          type: dict
          sample: {"total": 6, "by_kind": {"rest": 1, "rest-host": 3, "web-ui": 2}, "by_owner": {"agent": 1, "foreign": 5}}
        proxy:
          description: The proxy's C(virtual_sessions) and C(leases), its HTTPS listener and cache.
          type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostagent.bmc.plugins.module_utils.agentctl import (
    COMMON_OPTIONS,
    AgentctlError,
    fail,
    run,
)


def main():
    module = AnsibleModule(argument_spec=dict(COMMON_OPTIONS), supports_check_mode=True)
    try:
        _, status = run(module.params, ["status"])
    except AgentctlError as e:
        fail(module, e, changed=False)
        return
    module.exit_json(changed=False, ansible_facts=dict(hostagent=status))


if __name__ == "__main__":
    main()
