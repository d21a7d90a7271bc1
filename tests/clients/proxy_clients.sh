#!/bin/sh
# Real Redfish clients for tests/proxy_clients.rs. Runs inside the test's private "host"
# network namespace (nsenter), never on the machine's network: HPE's ilorest probes the in-band
# path (16.1.15.1), which there is the simulated iLO 7 behind a veth pair, as the vNIC would be.
#
#   proxy_clients.sh proxy N ...   N rounds of ilorest --nocache, DMTF redfish, redfishtool,
#                                  sushy and curl, through hostagentd's proxy (HTTPS listener
#                                  127.0.0.2:443, and the Unix socket for curl); prints
#                                  `OK <tool>` or `FAIL <tool> <output>` for each call
#   proxy_clients.sh direct N ...  N `ilorest login https://16.1.15.1:8443` / `logout` pairs
#                                  straight to the BMC (each leaks: the port is in the URL)
set -u
MODE=$1 N=$2 ILOREST=$3 PYTHON=$4 REDFISHTOOL=$5 CLIENTS=$6 SOCKET=$7
cd "$WORK"  # ilorest writes ilorest_logs/ in its working directory
export HOME="$WORK"
unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE

check() {  # check TOOL FILE PATTERN
    if grep -q "$3" "$2"; then echo "OK $1"; else echo "FAIL $1 $(head -c 400 "$2" | tr '\n' ' ')"; fi
}

i=0
while [ $i -lt "$N" ]; do
    i=$((i + 1))
    case $MODE in
    proxy)
        timeout 120 "$ILOREST" --nocache rawget /redfish/v1/Systems/1/ --url https://127.0.0.2 -u admin -p password > out.ilorest 2>&1
        check ilorest out.ilorest '"Id": *"1"'
        timeout 60 "$PYTHON" "$CLIENTS/dmtf_redfish.py" https://127.0.0.2 admin password /redfish/v1/Systems/1/ > out.dmtf 2>&1
        check dmtf-redfish out.dmtf '"status": 200'
        timeout 60 "$REDFISHTOOL" -r 127.0.0.2 -u admin -p password -A Session -S Always Systems -I 1 > out.rft 2>&1
        check redfishtool out.rft '"Id": *"1"'
        timeout 60 "$PYTHON" "$CLIENTS/sushy_client.py" https://127.0.0.2 admin password /redfish/v1/Systems/1/ > out.sushy 2>&1
        check sushy out.sushy '"identity": "1"'
        timeout 30 curl -s --unix-socket "$SOCKET" http://localhost/redfish/v1/Systems/1/ > out.curl 2>&1
        check curl out.curl '"Id": *"1"'
        ;;
    direct)
        timeout 120 "$ILOREST" login https://16.1.15.1:8443 -u admin -p password > out.login 2>&1
        check ilorest-login out.login 'Discovering data'
        timeout 120 "$ILOREST" logout > out.logout 2>&1
        check ilorest-logout out.logout 'Logging session out'
        ;;
    esac
done
