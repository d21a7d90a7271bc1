# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_agentctl_global_optspecs
    string join \n socket= json standalone config= sysfs-root= timeout= v/verbose h/help V/version
end

function __fish_agentctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_agentctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_agentctl_using_subcommand
    set -l cmd (__fish_agentctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c agentctl -n "__fish_agentctl_needs_command" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_needs_command" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_needs_command" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_needs_command" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_needs_command" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_needs_command" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_needs_command" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_needs_command" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_needs_command" -s V -l version -d 'Print version'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "status" -d 'Endpoint, transport, agent session, session counts by kind and owner, the limit if known'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "discover" -d 'Decode SMBIOS type 42 and show the endpoint that would be used'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "list" -d 'The BMC\'s sessions: id, user, kind, owner, origin, login, last access, idle'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "clean" -d 'Delete stale sessions by policy; prints what was deleted and kept'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "session" -d 'Leases: real BMC sessions bound to a process or a TTL'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "run" -d 'Run a command with a lease bound to it (REDFISH_URL, REDFISH_SESSION_TOKEN, REDFISH_SESSION_LOCATION)'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "get" -d 'GET a Redfish path through the agent'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "patch" -d 'PATCH a Redfish path through the agent'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "delete" -d 'DELETE a Redfish path through the agent'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "top" -d 'A live view, redrawn every second: the table\'s fill against its limit, sessions by kind and owner, the reaper\'s last and next run, proxy requests per second, virtual sessions and leases (from the daemon\'s metrics: no request to the BMC). q quits. Needs a terminal; with --json, prints one frame'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "hmc" -d 'IBM Power HMCs the daemon serves (`[[hmc]]`)'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "demo" -d 'Start a simulated iLO in-process, leak sessions into it, run the agent against it, list, clean, proxy a request, and print what happened. Needs no BMC'
complete -c agentctl -n "__fish_agentctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -l dmi-dir -d 'A directory holding smbios_entry_point and DMI (default: SYSFS/firmware/dmi/tables)' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand discover" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -l kind -d 'Only sessions of this kind (repeatable)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand list" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l kind -d 'Clean sessions of this kind (repeatable; default: the configured in-band kinds)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l idle -d 'Idle threshold in minutes (default: reaper.idle)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l id -d 'Delete these sessions by id, whatever their kind' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l dry-run -d 'Show what would be deleted; delete nothing'
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l force -d 'Allow kinds outside the in-band ones (a person\'s Web UI or console sessions)'
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l check -d 'Exit 6 when there is nothing to delete (for configuration management)'
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand clean" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -f -a "open" -d 'Open a lease; prints its id, token and location once'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -f -a "close" -d 'Close a lease (deletes its BMC session)'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -f -a "list" -d 'The open leases'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and not __fish_seen_subcommand_from open close list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l ttl -r
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l pid -d 'Bind the lease to this process: deleted when it exits' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from open" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from close" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "open" -d 'Open a lease; prints its id, token and location once'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "close" -d 'Close a lease (deletes its BMC session)'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "list" -d 'The open leases'
complete -c agentctl -n "__fish_agentctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -l ttl -d 'Lease lifetime limit' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand run" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand get" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -l data -d 'The JSON body' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand patch" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand delete" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand top" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -f -a "get" -d 'GET an HMC REST API path through the agent\'s session (prints the HMC\'s XML; with --json, status, ETag, content type and body)'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and not __fish_seen_subcommand_from get help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from help" -f -a "get" -d 'GET an HMC REST API path through the agent\'s session (prints the HMC\'s XML; with --json, status, ETag, content type and body)'
complete -c agentctl -n "__fish_agentctl_using_subcommand hmc; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -l socket -d 'The daemon\'s API socket' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -l config -d 'Config file for --standalone' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -l sysfs-root -d 'Root of sysfs (DMI tables, network devices) for --standalone and discover' -r -F
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -l timeout -d 'Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for clean)' -r
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -l json -d 'Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts'
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -l standalone -d 'Do the work here, without a daemon: one-shot, logs out at exit'
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -s v -l verbose -d 'More log output on stderr'
complete -c agentctl -n "__fish_agentctl_using_subcommand demo" -s h -l help -d 'Print help'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "status" -d 'Endpoint, transport, agent session, session counts by kind and owner, the limit if known'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "discover" -d 'Decode SMBIOS type 42 and show the endpoint that would be used'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "list" -d 'The BMC\'s sessions: id, user, kind, owner, origin, login, last access, idle'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "clean" -d 'Delete stale sessions by policy; prints what was deleted and kept'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "session" -d 'Leases: real BMC sessions bound to a process or a TTL'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "run" -d 'Run a command with a lease bound to it (REDFISH_URL, REDFISH_SESSION_TOKEN, REDFISH_SESSION_LOCATION)'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "get" -d 'GET a Redfish path through the agent'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "patch" -d 'PATCH a Redfish path through the agent'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "delete" -d 'DELETE a Redfish path through the agent'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "top" -d 'A live view, redrawn every second: the table\'s fill against its limit, sessions by kind and owner, the reaper\'s last and next run, proxy requests per second, virtual sessions and leases (from the daemon\'s metrics: no request to the BMC). q quits. Needs a terminal; with --json, prints one frame'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "hmc" -d 'IBM Power HMCs the daemon serves (`[[hmc]]`)'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "demo" -d 'Start a simulated iLO in-process, leak sessions into it, run the agent against it, list, clean, proxy a request, and print what happened. Needs no BMC'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and not __fish_seen_subcommand_from status discover list clean session run get patch delete top hmc demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and __fish_seen_subcommand_from session" -f -a "open" -d 'Open a lease; prints its id, token and location once'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and __fish_seen_subcommand_from session" -f -a "close" -d 'Close a lease (deletes its BMC session)'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and __fish_seen_subcommand_from session" -f -a "list" -d 'The open leases'
complete -c agentctl -n "__fish_agentctl_using_subcommand help; and __fish_seen_subcommand_from hmc" -f -a "get" -d 'GET an HMC REST API path through the agent\'s session (prints the HMC\'s XML; with --json, status, ETag, content type and body)'
