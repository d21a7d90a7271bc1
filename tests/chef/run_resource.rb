# Runs a Chef custom resource file (the part of Chef's DSL it uses) outside Chef, which is not
# installable on the build machines: Chef is on rubygems.org only. Used by
# tests/config_management.rs against a live hostagentd.
#
#   ruby run_resource.rb RESOURCE.rb ACTION key=value...   (kinds=a,b  idle=30)
# Prints `converged: <description>` for each converge_by, or `up to date`; a raised error
# exits 1 with its message on stderr.
require 'json'
require 'open3'

class FakeResourceClass
  Result = Struct.new(:stdout, :stderr, :exitstatus)
  attr_reader :properties, :actions, :converged

  def initialize(path)
    @properties = {}
    @actions = {}
    @helpers = Module.new
    @converged = []
    instance_eval(File.read(path), path)
  end

  # The DSL of a custom resource file.
  def provides(*) end
  def unified_mode(*) end
  def default_action(name) = @default = name
  def property(name, _type = nil, default: nil) = @properties[name] = default
  def action(name, &block) = @actions[name] = block
  def action_class(&block) = @helpers.module_eval(&block)

  def run(action, values)
    resource = Struct.new(*@properties.keys).new(*@properties.values)
    values.each { |k, v| resource[k] = v }
    context = Object.new
    context.extend(@helpers)
    converged = @converged
    context.define_singleton_method(:new_resource) { resource }
    context.define_singleton_method(:converge_by) { |description, &blk| converged << description; blk.call }
    context.define_singleton_method(:shell_out) do |*command|
      out, err, status = Open3.capture3(*command)
      Result.new(out, err, status.exitstatus)
    end
    context.instance_eval(&@actions.fetch(action))
  end
end

path, action, *pairs = ARGV
values = pairs.to_h do |pair|
  key, value = pair.split('=', 2)
  value = case key
          when 'kinds' then value.split(',')
          when 'idle' then Integer(value)
          else value
          end
  [key.to_sym, value]
end
resource = FakeResourceClass.new(path)
begin
  resource.run(action.to_sym, values)
rescue StandardError => e
  warn e.message
  exit 1
end
if resource.converged.empty?
  puts 'up to date'
else
  resource.converged.each { |d| puts "converged: #{d}" }
end
