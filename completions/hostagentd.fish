complete -c hostagentd -l config -d 'Main config file; drop-ins are read from conf.d/ beside it' -r -F
complete -c hostagentd -l socket -d 'The local API socket (overrides api.socket)' -r -F
complete -c hostagentd -l endpoint -d 'A Redfish endpoint that overrides discovery, e.g. https://127.0.0.1:8443' -r
complete -c hostagentd -l state-dir -d 'Where the ledger and TOFU pins are kept (overrides state.dir)' -r -F
complete -c hostagentd -l sysfs-root -d 'Root of sysfs, where the DMI tables and network devices are read' -r -F
complete -c hostagentd -l memory-only -l nocache -d 'Write no file at all: no ledger, no TOFU pins (alias --nocache)'
complete -c hostagentd -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c hostagentd -s h -l help -d 'Print help'
complete -c hostagentd -s V -l version -d 'Print version'
