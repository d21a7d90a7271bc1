# hostagent_sessions: clean the stale in-band Redfish sessions on this host's BMC by
# hostagentd's policy (never a person's session, never the agent's own), through
# `agentctl --json clean`; see agentctl(1).
#
#   hostagent_sessions 'in-band' do
#     kinds %w(rest-host)     # default: the kinds in hostagent.toml
#     idle 30                 # minutes; default: reaper.idle in hostagent.toml
#     action :clean
#   end
provides :hostagent_sessions
unified_mode true

property :kinds, Array, default: []
property :idle, Integer
property :socket, String, default: '/run/hostagent/agent.sock'
property :agentctl, String, default: '/usr/bin/agentctl'

default_action :clean

action :clean do
  preview = hostagent_agentctl('clean', '--dry-run')
  stale = preview.fetch('deleted')
  if stale.any?
    converge_by("clean #{stale.length} stale BMC sessions (#{stale.map { |s| s['id'] }.join(', ')})") do
      report = hostagent_agentctl('clean')
      failed = report.fetch('failed')
      unless failed.empty?
        raise "hostagent: #{failed.length} stale sessions could not be deleted: " +
              failed.map { |f| "#{f['id']}: #{f['error']}" }.join('; ')
      end
    end
  end
end

action_class do
  require 'json'

  # Runs agentctl with this resource's filters; its JSON answer, or an error with agentctl's
  # own message.
  def hostagent_agentctl(*args)
    filters = new_resource.kinds.flat_map { |k| ['--kind', k] }
    filters += ['--idle', new_resource.idle.to_s] if new_resource.idle
    command = [new_resource.agentctl, '--socket', new_resource.socket, '--json', *args, *filters]
    result = shell_out(*command)
    answer = begin
      JSON.parse(result.stdout)
    rescue JSON::ParserError
      raise "hostagent: `#{command.join(' ')}` did not answer JSON (exit #{result.exitstatus}): #{result.stdout[0, 200]}"
    end
    return answer if result.exitstatus.zero?
    raise "hostagent: agentctl #{args.first} failed (exit #{result.exitstatus}): #{answer.dig('error', 'message') || result.stdout}"
  end
end
