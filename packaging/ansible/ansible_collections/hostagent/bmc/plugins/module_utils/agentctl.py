# -*- coding: utf-8 -*-
# Apache-2.0
"""Runs `agentctl --json` for the hostagent.bmc modules and turns its answer or its error into
a result or a failed task with agentctl's own message.

agentctl's exit codes (agentctl(1)): 0 ok, 1 failure, 2 usage, 3 hostagentd not running,
4 BMC unreachable, 5 not permitted, 6 nothing to do (only with --check, not used here).

subprocess.run is used rather than AnsibleModule.run_command because run_command has no
timeout, and agentctl has none of its own: it can wait for a daemon that accepted the
connection but is still logging in to the BMC. A task must not hang for that.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess

COMMON_OPTIONS = dict(
    socket=dict(type="path", default="/run/hostagent/agent.sock"),
    agentctl=dict(type="path", default="/usr/bin/agentctl"),
    timeout=dict(type="int", default=60),
)


class AgentctlError(Exception):
    """agentctl could not be run, or answered an error; `rc` is its exit code when it ran."""

    def __init__(self, message, rc=None, code=None, answer=None):
        super(AgentctlError, self).__init__(message)
        self.message = message
        self.rc = rc
        self.code = code
        self.answer = answer


def command(params, args):
    """The agentctl command line for these module parameters and agentctl arguments."""
    return [params["agentctl"], "--socket", params["socket"], "--json"] + list(args)


def run(params, args):
    """Runs agentctl; returns (exit code, parsed JSON answer). An exit code other than 0 or 1
    with a JSON report (a clean some of whose deletes failed) raises AgentctlError with the
    message agentctl gave."""
    argv = command(params, args)
    shown = " ".join(argv)
    timeout = params["timeout"]
    if timeout is not None and timeout <= 0:
        raise AgentctlError("hostagent: timeout must be a positive number of seconds, got %d" % timeout)
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AgentctlError(
            "hostagent: `%s` did not answer within %d s (hostagentd may still be connecting "
            "to the BMC; raise `timeout` if it is slow)" % (shown, timeout),
            code="timeout",
        )
    except OSError as e:
        raise AgentctlError("hostagent: cannot run %s: %s" % (params["agentctl"], e), code="no_agentctl")
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    try:
        answer = json.loads(stdout)
    except ValueError:
        # Usage errors (exit 2) come from the argument parser on stderr, not as JSON.
        raise AgentctlError(
            "hostagent: `%s` did not answer JSON (exit %d): %s" % (shown, proc.returncode, (stderr or stdout)[:400]),
            rc=proc.returncode,
            code="bad_answer",
        )
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):
        raise AgentctlError(
            "hostagent: agentctl %s failed (exit %d): %s" % (args[0], proc.returncode, error.get("message", stdout)),
            rc=proc.returncode,
            code=error.get("code"),
            answer=answer,
        )
    if proc.returncode not in (0, 1):
        raise AgentctlError(
            "hostagent: agentctl %s failed (exit %d): %s" % (args[0], proc.returncode, stderr or stdout[:400]),
            rc=proc.returncode,
            answer=answer,
        )
    return proc.returncode, answer


def fail(module, error, **extra):
    """Fails the task with agentctl's message, its exit code and its error code."""
    result = dict(extra)
    if error.rc is not None:
        result["rc"] = error.rc
    if error.code is not None:
        result["code"] = error.code
    module.fail_json(msg=error.message, **result)
