require 'json'

# Reads with `agentctl --json clean --dry-run` and cleans with `agentctl --json clean`; an
# error from agentctl (daemon not running, BMC unreachable, not permitted) fails the resource
# with agentctl's own message.
Puppet::Type.type(:hostagent_sessions).provide(:agentctl) do
  desc 'Calls agentctl --json against hostagentd.'

  def stale
    agentctl('clean', '--dry-run').fetch('deleted').length
  end

  def stale=(_zero)
    report = agentctl('clean')
    failed = report.fetch('failed')
    return if failed.empty?
    raise Puppet::Error, "hostagent: #{failed.length} stale sessions could not be deleted: " +
                         failed.map { |f| "#{f['id']}: #{f['error']}" }.join('; ')
  end

  private

  def agentctl(*args)
    filters = Array(resource[:kinds]).flat_map { |k| ['--kind', k] }
    filters += ['--idle', resource[:idle].to_s] unless resource[:idle].nil?
    command = [resource[:agentctl], '--socket', resource[:socket], '--json', *args, *filters]
    output = Puppet::Util::Execution.execute(command, failonfail: false, combine: false)
    answer = begin
      JSON.parse(output)
    rescue JSON::ParserError
      raise Puppet::Error, "hostagent: `#{command.join(' ')}` did not answer JSON (exit #{output.exitstatus}): #{output[0, 200]}"
    end
    return answer if output.exitstatus.zero?
    message = answer.dig('error', 'message') || output
    raise Puppet::Error, "hostagent: agentctl #{args.first} failed (exit #{output.exitstatus}): #{message}"
  end
end
