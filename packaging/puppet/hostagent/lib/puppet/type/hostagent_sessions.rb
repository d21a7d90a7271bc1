# hostagent_sessions: the stale in-band Redfish sessions on this host's BMC, cleaned by
# hostagentd's policy (never a person's session, never the agent's own). The provider calls
# `agentctl --json clean`; see agentctl(1).
#
#   hostagent_sessions { 'in-band':
#     stale => 0,                        # the only value there is to ask for
#     kinds => ['rest-host'],            # default: the kinds in hostagent.toml
#     idle  => 30,                       # minutes; default: reaper.idle in hostagent.toml
#   }
Puppet::Type.newtype(:hostagent_sessions) do
  @doc = 'Stale in-band Redfish sessions on the BMC, cleaned by hostagentd (agentctl --json clean).'

  newparam(:name, namevar: true) do
    desc 'A name for this policy.'
  end

  newproperty(:stale) do
    desc 'How many stale sessions the policy finds; ask for 0 to have them cleaned.'
    validate do |value|
      raise ArgumentError, "stale must be 0, not #{value.inspect}" unless value.to_s == '0'
    end
    munge { |value| Integer(value) }
  end

  newparam(:kinds, array_matching: :all) do
    desc 'Session kinds to clean (rest-host, host-application, ...); unset: the configured ones.'
    validate do |value|
      raise ArgumentError, "kind #{value.inspect} is not a word like rest-host" unless value.to_s.match?(/\A[a-z-]+\z/)
    end
  end

  newparam(:idle) do
    desc 'Minutes a session must be idle to be stale; default: reaper.idle of the daemon.'
    validate do |value|
      raise ArgumentError, "idle must be a whole number of minutes, not #{value.inspect}" unless value.to_s.match?(/\A\d+\z/)
    end
    munge { |value| Integer(value) }
  end

  newparam(:socket) do
    desc "hostagentd's API socket."
    defaultto '/run/hostagent/agent.sock'
  end

  newparam(:agentctl) do
    desc 'The agentctl binary.'
    defaultto '/usr/bin/agentctl'
  end
end
