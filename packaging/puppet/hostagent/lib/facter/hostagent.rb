# The structured fact `hostagent`: hostagentd's status as `agentctl --json status` prints it
# (endpoint, transport, auth, agent_session, limit, sessions.total/by_kind/by_owner, proxy).
# When the daemon does not answer, the fact is {"error" => {"code", "message"}} with agentctl's
# error (not_running, bmc_unreachable, forbidden, ...) so that a fleet query finds those hosts;
# without agentctl there is no fact.
#
# agentctl has no timeout of its own and waits for a daemon that accepted the connection but is
# still logging in to the BMC, so the fact gives up after HOSTAGENT_FACT_TIMEOUT seconds
# (default 10) with the error code `timeout`: a Puppet run must not hang on it.
#
# Environment: HOSTAGENT_SOCKET (default /run/hostagent/agent.sock), HOSTAGENT_AGENTCTL
# (default /usr/bin/agentctl), HOSTAGENT_FACT_TIMEOUT (seconds).
require 'json'
require 'shellwords'

Facter.add(:hostagent) do
  agentctl = ENV.fetch('HOSTAGENT_AGENTCTL', '/usr/bin/agentctl')
  confine { File.executable?(agentctl) }

  setcode do
    socket = ENV.fetch('HOSTAGENT_SOCKET', '/run/hostagent/agent.sock')
    timeout = Integer(ENV.fetch('HOSTAGENT_FACT_TIMEOUT', '10'), exception: false)
    timeout = 10 unless timeout&.positive?
    command = Shellwords.join([agentctl, '--socket', socket, '--json', 'status'])
    begin
      out = Facter::Core::Execution.execute(command, timeout: timeout, on_fail: :raise)
      JSON.parse(out)
    rescue Facter::Core::Execution::ExecutionFailure => e
      if e.message.include?('Timeout')
        { 'error' => { 'code' => 'timeout',
                       'message' => "agentctl status did not answer within #{timeout} s on #{socket} " \
                                    '(hostagentd may still be connecting to the BMC)' } }
      else
        { 'error' => { 'code' => 'agentctl_failed', 'message' => e.message } }
      end
    rescue JSON::ParserError
      { 'error' => { 'code' => 'bad_answer',
                     'message' => "agentctl status did not answer JSON: #{out.to_s[0, 200]}" } }
    end
  end
end
