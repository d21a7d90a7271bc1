#compdef agentctl

autoload -U is-at-least

_agentctl() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_agentctl_commands" \
"*::: :->agentctl" \
&& ret=0
    case $state in
    (agentctl)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-command-$line[1]:"
        case $line[1] in
            (status)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(discover)
_arguments "${_arguments_options[@]}" : \
'--dmi-dir=[A directory holding smbios_entry_point and DMI (default\: SYSFS/firmware/dmi/tables)]:DIR:_files' \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'*--kind=[Only sessions of this kind (repeatable)]:KIND:_default' \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(clean)
_arguments "${_arguments_options[@]}" : \
'*--kind=[Clean sessions of this kind (repeatable; default\: the configured in-band kinds)]:KIND:_default' \
'--idle=[Idle threshold in minutes (default\: reaper.idle)]:MIN:_default' \
'*--id=[Delete these sessions by id, whatever their kind]:ID:_default' \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--dry-run[Show what would be deleted; delete nothing]' \
'--force[Allow kinds outside the in-band ones (a person'\''s Web UI or console sessions)]' \
'--check[Exit 6 when there is nothing to delete (for configuration management)]' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(session)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_agentctl__subcmd__session_commands" \
"*::: :->session" \
&& ret=0

    case $state in
    (session)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-session-command-$line[1]:"
        case $line[1] in
            (open)
_arguments "${_arguments_options[@]}" : \
'--ttl=[]:DUR:_default' \
'--pid=[Bind the lease to this process\: deleted when it exits]:PID:_default' \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(close)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
':id:_default' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_agentctl__subcmd__session__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-session-help-command-$line[1]:"
        case $line[1] in
            (open)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(close)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(run)
_arguments "${_arguments_options[@]}" : \
'--ttl=[Lease lifetime limit]:DUR:_default' \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
'*::command -- The command and its arguments:_default' \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
':path:_default' \
&& ret=0
;;
(patch)
_arguments "${_arguments_options[@]}" : \
'--data=[The JSON body]:JSON:_default' \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
':path:_default' \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
':path:_default' \
&& ret=0
;;
(top)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(hmc)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_agentctl__subcmd__hmc_commands" \
"*::: :->hmc" \
&& ret=0

    case $state in
    (hmc)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-hmc-command-$line[1]:"
        case $line[1] in
            (get)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
':name -- The HMC'\''s name (`\[\[hmc\]\]` name):_default' \
':path -- A path under /rest/api, e.g. /rest/api/uom/ManagedSystem or uom/ManagedSystem:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_agentctl__subcmd__hmc__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-hmc-help-command-$line[1]:"
        case $line[1] in
            (get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(demo)
_arguments "${_arguments_options[@]}" : \
'--socket=[The daemon'\''s API socket]:PATH:_files' \
'--config=[Config file for --standalone]:FILE:_files' \
'--sysfs-root=[Root of sysfs (DMI tables, network devices) for --standalone and discover]:DIR:_files' \
'--timeout=[Give up waiting for hostagentd after this long and exit 4 (default\: 30s, 10m for clean)]:DUR:_default' \
'--json[Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts]' \
'--standalone[Do the work here, without a daemon\: one-shot, logs out at exit]' \
'*-v[More log output on stderr]' \
'*--verbose[More log output on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_agentctl__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-help-command-$line[1]:"
        case $line[1] in
            (status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(discover)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(clean)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(session)
_arguments "${_arguments_options[@]}" : \
":: :_agentctl__subcmd__help__subcmd__session_commands" \
"*::: :->session" \
&& ret=0

    case $state in
    (session)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-help-session-command-$line[1]:"
        case $line[1] in
            (open)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(close)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(run)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(patch)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(top)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(hmc)
_arguments "${_arguments_options[@]}" : \
":: :_agentctl__subcmd__help__subcmd__hmc_commands" \
"*::: :->hmc" \
&& ret=0

    case $state in
    (hmc)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agentctl-help-hmc-command-$line[1]:"
        case $line[1] in
            (get)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(demo)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_agentctl_commands] )) ||
_agentctl_commands() {
    local commands; commands=(
'status:Endpoint, transport, agent session, session counts by kind and owner, the limit if known' \
'discover:Decode SMBIOS type 42 and show the endpoint that would be used' \
'list:The BMC'\''s sessions\: id, user, kind, owner, origin, login, last access, idle' \
'clean:Delete stale sessions by policy; prints what was deleted and kept' \
'session:Leases\: real BMC sessions bound to a process or a TTL' \
'run:Run a command with a lease bound to it (REDFISH_URL, REDFISH_SESSION_TOKEN, REDFISH_SESSION_LOCATION)' \
'get:GET a Redfish path through the agent' \
'patch:PATCH a Redfish path through the agent' \
'delete:DELETE a Redfish path through the agent' \
'top:A live view, redrawn every second\: the table'\''s fill against its limit, sessions by kind and owner, the reaper'\''s last and next run, proxy requests per second, virtual sessions and leases (from the daemon'\''s metrics\: no request to the BMC). q quits. Needs a terminal; with --json, prints one frame' \
'hmc:IBM Power HMCs the daemon serves (\`\[\[hmc\]\]\`)' \
'demo:Start a simulated iLO in-process, leak sessions into it, run the agent against it, list, clean, proxy a request, and print what happened. Needs no BMC' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agentctl commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__clean_commands] )) ||
_agentctl__subcmd__clean_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl clean commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__delete_commands] )) ||
_agentctl__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl delete commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__demo_commands] )) ||
_agentctl__subcmd__demo_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl demo commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__discover_commands] )) ||
_agentctl__subcmd__discover_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl discover commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__get_commands] )) ||
_agentctl__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl get commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help_commands] )) ||
_agentctl__subcmd__help_commands() {
    local commands; commands=(
'status:Endpoint, transport, agent session, session counts by kind and owner, the limit if known' \
'discover:Decode SMBIOS type 42 and show the endpoint that would be used' \
'list:The BMC'\''s sessions\: id, user, kind, owner, origin, login, last access, idle' \
'clean:Delete stale sessions by policy; prints what was deleted and kept' \
'session:Leases\: real BMC sessions bound to a process or a TTL' \
'run:Run a command with a lease bound to it (REDFISH_URL, REDFISH_SESSION_TOKEN, REDFISH_SESSION_LOCATION)' \
'get:GET a Redfish path through the agent' \
'patch:PATCH a Redfish path through the agent' \
'delete:DELETE a Redfish path through the agent' \
'top:A live view, redrawn every second\: the table'\''s fill against its limit, sessions by kind and owner, the reaper'\''s last and next run, proxy requests per second, virtual sessions and leases (from the daemon'\''s metrics\: no request to the BMC). q quits. Needs a terminal; with --json, prints one frame' \
'hmc:IBM Power HMCs the daemon serves (\`\[\[hmc\]\]\`)' \
'demo:Start a simulated iLO in-process, leak sessions into it, run the agent against it, list, clean, proxy a request, and print what happened. Needs no BMC' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agentctl help commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__clean_commands] )) ||
_agentctl__subcmd__help__subcmd__clean_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help clean commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__delete_commands] )) ||
_agentctl__subcmd__help__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help delete commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__demo_commands] )) ||
_agentctl__subcmd__help__subcmd__demo_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help demo commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__discover_commands] )) ||
_agentctl__subcmd__help__subcmd__discover_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help discover commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__get_commands] )) ||
_agentctl__subcmd__help__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help get commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__help_commands] )) ||
_agentctl__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help help commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__hmc_commands] )) ||
_agentctl__subcmd__help__subcmd__hmc_commands() {
    local commands; commands=(
'get:GET an HMC REST API path through the agent'\''s session (prints the HMC'\''s XML; with --json, status, ETag, content type and body)' \
    )
    _describe -t commands 'agentctl help hmc commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__hmc__subcmd__get_commands] )) ||
_agentctl__subcmd__help__subcmd__hmc__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help hmc get commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__list_commands] )) ||
_agentctl__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help list commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__patch_commands] )) ||
_agentctl__subcmd__help__subcmd__patch_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help patch commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__run_commands] )) ||
_agentctl__subcmd__help__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help run commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__session_commands] )) ||
_agentctl__subcmd__help__subcmd__session_commands() {
    local commands; commands=(
'open:Open a lease; prints its id, token and location once' \
'close:Close a lease (deletes its BMC session)' \
'list:The open leases' \
    )
    _describe -t commands 'agentctl help session commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__session__subcmd__close_commands] )) ||
_agentctl__subcmd__help__subcmd__session__subcmd__close_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help session close commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__session__subcmd__list_commands] )) ||
_agentctl__subcmd__help__subcmd__session__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help session list commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__session__subcmd__open_commands] )) ||
_agentctl__subcmd__help__subcmd__session__subcmd__open_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help session open commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__status_commands] )) ||
_agentctl__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help status commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__help__subcmd__top_commands] )) ||
_agentctl__subcmd__help__subcmd__top_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl help top commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__hmc_commands] )) ||
_agentctl__subcmd__hmc_commands() {
    local commands; commands=(
'get:GET an HMC REST API path through the agent'\''s session (prints the HMC'\''s XML; with --json, status, ETag, content type and body)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agentctl hmc commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__hmc__subcmd__get_commands] )) ||
_agentctl__subcmd__hmc__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl hmc get commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__hmc__subcmd__help_commands] )) ||
_agentctl__subcmd__hmc__subcmd__help_commands() {
    local commands; commands=(
'get:GET an HMC REST API path through the agent'\''s session (prints the HMC'\''s XML; with --json, status, ETag, content type and body)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agentctl hmc help commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__hmc__subcmd__help__subcmd__get_commands] )) ||
_agentctl__subcmd__hmc__subcmd__help__subcmd__get_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl hmc help get commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__hmc__subcmd__help__subcmd__help_commands] )) ||
_agentctl__subcmd__hmc__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl hmc help help commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__list_commands] )) ||
_agentctl__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl list commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__patch_commands] )) ||
_agentctl__subcmd__patch_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl patch commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__run_commands] )) ||
_agentctl__subcmd__run_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl run commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session_commands] )) ||
_agentctl__subcmd__session_commands() {
    local commands; commands=(
'open:Open a lease; prints its id, token and location once' \
'close:Close a lease (deletes its BMC session)' \
'list:The open leases' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agentctl session commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__close_commands] )) ||
_agentctl__subcmd__session__subcmd__close_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl session close commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__help_commands] )) ||
_agentctl__subcmd__session__subcmd__help_commands() {
    local commands; commands=(
'open:Open a lease; prints its id, token and location once' \
'close:Close a lease (deletes its BMC session)' \
'list:The open leases' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agentctl session help commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__help__subcmd__close_commands] )) ||
_agentctl__subcmd__session__subcmd__help__subcmd__close_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl session help close commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__help__subcmd__help_commands] )) ||
_agentctl__subcmd__session__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl session help help commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__help__subcmd__list_commands] )) ||
_agentctl__subcmd__session__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl session help list commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__help__subcmd__open_commands] )) ||
_agentctl__subcmd__session__subcmd__help__subcmd__open_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl session help open commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__list_commands] )) ||
_agentctl__subcmd__session__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl session list commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__session__subcmd__open_commands] )) ||
_agentctl__subcmd__session__subcmd__open_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl session open commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__status_commands] )) ||
_agentctl__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl status commands' commands "$@"
}
(( $+functions[_agentctl__subcmd__top_commands] )) ||
_agentctl__subcmd__top_commands() {
    local commands; commands=()
    _describe -t commands 'agentctl top commands' commands "$@"
}

if [ "$funcstack[1]" = "_agentctl" ]; then
    _agentctl "$@"
else
    compdef _agentctl agentctl
fi
