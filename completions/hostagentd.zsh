#compdef hostagentd

autoload -U is-at-least

_hostagentd() {
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
'--config=[Main config file; drop-ins are read from conf.d/ beside it]:FILE:_files' \
'--socket=[The local API socket (overrides api.socket)]:PATH:_files' \
'--endpoint=[A Redfish endpoint that overrides discovery, e.g. https\://127.0.0.1\:8443]:URL:_default' \
'--state-dir=[Where the ledger and TOFU pins are kept (overrides state.dir)]:DIR:_files' \
'--sysfs-root=[Root of sysfs, where the DMI tables and network devices are read]:DIR:_files' \
'--memory-only[Write no file at all\: no ledger, no TOFU pins (alias --nocache)]' \
'--nocache[Write no file at all\: no ledger, no TOFU pins (alias --nocache)]' \
'*-v[More log output (-v debug, -vv trace)]' \
'*--verbose[More log output (-v debug, -vv trace)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
}

(( $+functions[_hostagentd_commands] )) ||
_hostagentd_commands() {
    local commands; commands=()
    _describe -t commands 'hostagentd commands' commands "$@"
}

if [ "$funcstack[1]" = "_hostagentd" ]; then
    _hostagentd "$@"
else
    compdef _hostagentd hostagentd
fi
