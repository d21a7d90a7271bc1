# Ohai plugin: node['hostagent'] is hostagentd's status as `agentctl --json status` prints it
# (endpoint, transport, auth, agent_session, limit, sessions.total/by_kind/by_owner, proxy).
# When the daemon does not answer it is {"error" => {"code", "message"}} with agentctl's error,
# so that a search finds those nodes; without agentctl the plugin sets nothing.
#
# agentctl has no timeout of its own and waits for a daemon that accepted the connection but is
# still logging in to the BMC; the plugin gives up after `timeout` seconds (default 10) with the
# error code `timeout`, so a chef-client run does not hang on it.
#
# Settings, in client.rb (ohai.plugin[:hostagent][:socket] = '...') or the environment:
#   socket    HOSTAGENT_SOCKET        default /run/hostagent/agent.sock
#   agentctl  HOSTAGENT_AGENTCTL      default /usr/bin/agentctl
#   timeout   HOSTAGENT_FACT_TIMEOUT  default 10 (seconds)
Ohai.plugin(:Hostagent) do
  provides 'hostagent'

  def hostagent_setting(key, env, default)
    configured = Ohai.config[:plugin][:hostagent] && Ohai.config[:plugin][:hostagent][key]
    configured || ENV[env] || default
  end

  collect_data(:default) do
    require 'json'
    agentctl = hostagent_setting(:agentctl, 'HOSTAGENT_AGENTCTL', '/usr/bin/agentctl')
    socket = hostagent_setting(:socket, 'HOSTAGENT_SOCKET', '/run/hostagent/agent.sock')
    timeout = Integer(hostagent_setting(:timeout, 'HOSTAGENT_FACT_TIMEOUT', 10), exception: false)
    timeout = 10 unless timeout&.positive?
    if File.executable?(agentctl)
      begin
        so = shell_out([agentctl, '--socket', socket, '--json', 'status'], timeout: timeout)
        hostagent Mash.new(JSON.parse(so.stdout))
      rescue Ohai::Exceptions::Exec => e
        hostagent Mash.new(
          'error' => if e.message.include?('timed out') || e.cause.is_a?(Mixlib::ShellOut::CommandTimeout)
                       { 'code' => 'timeout',
                         'message' => "agentctl status did not answer within #{timeout} s on #{socket} " \
                                      '(hostagentd may still be connecting to the BMC)' }
                     else
                       { 'code' => 'agentctl_failed', 'message' => e.message }
                     end
        )
      rescue JSON::ParserError
        hostagent Mash.new('error' => { 'code' => 'bad_answer',
                                        'message' => "agentctl status did not answer JSON: #{so.stdout[0, 200]}" })
      end
    else
      logger.trace("Plugin Hostagent: #{agentctl} is not executable; no hostagent data")
    end
  end
end
