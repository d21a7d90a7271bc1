#!/bin/sh
# Runs inside a private network namespace (unshare -n), never on the host's network:
# HPE's ilorest probes the in-band path when it lacks a URL. Starts bmcsim on 127.0.0.1:443 so
# that the URL carries no port (iLO's absolute Location has none), then runs ilorest and
# redfishtool and sushy: login, GET, logout. Prints the session table after each tool as
# `TABLE <tool> <json>` lines for the test to check.
set -u
BMCSIM=$1 ILOREST=$2 REDFISHTOOL=$3 PYTHON=$4 SUSHY=$5 PROFILE=${6:-ilo6}
ip link set lo up
"$BMCSIM" --profile "$PROFILE" --listen 127.0.0.1:443 > "$WORK/sim.out" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q ready "$WORK/sim.out" && break; sleep 0.1; done
export HOME="$WORK"
cd "$WORK"  # ilorest writes ilorest_logs/ in its working directory
unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
table() { echo "TABLE $1 $(curl -sk https://127.0.0.1/_sim/sessions)"; }
timeout 120 "$ILOREST" login https://127.0.0.1 -u admin -p password || echo "FAILED ilorest login"
table ilorest-login
echo "LOGINREQUESTS $(curl -sk https://127.0.0.1/_sim/log | tr ',' '\n' | grep -c '"method"')"
timeout 120 "$ILOREST" rawget /redfish/v1/SessionService/Sessions/ > "$WORK/rawget.json" || echo "FAILED ilorest rawget"
echo "RAWGET $(tr -d '\n ' < "$WORK/rawget.json" | head -c 2000)"
timeout 120 "$ILOREST" logout || echo "FAILED ilorest logout"
table ilorest-logout
timeout 120 "$REDFISHTOOL" -r 127.0.0.1 -u admin -p password -A Session -S Always Systems -I 1 > "$WORK/rft.json" || echo "FAILED redfishtool"
echo "REDFISHTOOL $(tr -d '\n ' < "$WORK/rft.json" | head -c 300)"
table redfishtool
timeout 120 "$PYTHON" "$SUSHY" https://127.0.0.1 admin password /redfish/v1/Systems/1/ > "$WORK/sushy.json" || echo "FAILED sushy"
echo "SUSHY $(cat "$WORK/sushy.json")"
table sushy
