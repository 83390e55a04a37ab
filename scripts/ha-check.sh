#!/usr/bin/env bash
# Home Assistant, a real client, against `picket uplink`: the long form of the discovery tests
# (CI runs only the fixture tests in src/uplink/tests.rs). It
#
#   - installs homeassistant==2024.3.3 (the newest for Python 3.11) once into a venv under
#     $PICKET_CACHE, with its transitive dependencies pinned by its package_constraints.txt and
#     the requirements of the integrations it loads here;
#   - starts Mosquitto with a plain listener for Home Assistant and a TLS listener with a test CA
#     and a password for the uplink (commands need mqtts://), and Home Assistant on 127.0.0.1,
#     onboarded headless, with its MQTT integration pointed at the broker;
#   - runs `picket run --fast` on the committed clip and `picket uplink` with discovery,
#     snapshots and commands;
#   - lists the entities Home Assistant discovered (entity registry and REST API) with their
#     states, fetches the snapshot image, disarms through the alarm panel with a wrong code
#     (nothing may happen) and with the right one (`picket run` applies it, the panel shows
#     `disarmed`), and SIGKILLs the uplink: every entity must become `unavailable`.
#
# Prints the figures; fails on the first check that does not hold. Takes about a minute once
# the venv exists (about 5 minutes and 810 MB to make it).
#
#   scripts/ha-check.sh
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

HA_VERSION=2024.3.3
BOX=hacheck
CODE=4711
CLIP=$PICKET_ROOT/tests/data/clip/vtest-460-539.mjpeg

# ha_venv: prints the venv holding Home Assistant and what it loads here; made once.
ha_venv() {
  local dir="$PICKET_CACHE/venv/homeassistant-$HA_VERSION"
  if [ ! -f "$dir/.done" ]; then
    log "venv: homeassistant==$HA_VERSION into $dir"
    rm -rf "$dir"
    python3 -m venv "$dir" >&2
    "$dir/bin/pip" install -q "homeassistant==$HA_VERSION" >&2
    local pkg
    pkg=$("$dir/bin/python" -c 'import homeassistant, os; print(os.path.dirname(homeassistant.__file__))')
    # The requirements of the integrations bootstrap.py starts without `default_config:`, and
    # of those picket's discovery uses, following each manifest's `dependencies`.
    "$dir/bin/python" - "$pkg" >"$dir/integration-requirements.txt" <<'EOF'
import ast, json, pathlib, sys
pkg = pathlib.Path(sys.argv[1])
wanted = {"mqtt", "image", "sensor", "binary_sensor", "alarm_control_panel", "camera", "stream",
          "api", "http", "onboarding", "config", "frontend", "recorder"}
for node in ast.parse((pkg / "bootstrap.py").read_text()).body:
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if any(n in ("CORE_INTEGRATIONS", "LOGGING_INTEGRATIONS", "FRONTEND_INTEGRATIONS",
                     "RECORDER_INTEGRATIONS", "DEFAULT_INTEGRATIONS") for n in names):
            wanted |= {c.value for c in ast.walk(node.value)
                       if isinstance(c, ast.Constant) and isinstance(c.value, str)}
seen, reqs = set(), set()
while wanted:
    name = wanted.pop()
    manifest = pkg / "components" / name / "manifest.json"
    if name in seen or not manifest.exists():
        continue
    seen.add(name)
    m = json.loads(manifest.read_text())
    reqs.update(m.get("requirements", []))
    wanted.update(m.get("dependencies", []))
print("\n".join(sorted(reqs)))
EOF
    "$dir/bin/pip" install -q -c "$pkg/package_constraints.txt" "homeassistant==$HA_VERSION" \
      -r "$dir/integration-requirements.txt" 'josepy<2' >&2
    touch "$dir/.done"
  fi
  printf '%s\n' "$dir"
}

# wait_for_file FILE SECONDS: whether FILE appeared within SECONDS.
wait_for_file() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

apt_ensure mosquitto openssl
venv=$(ha_venv)
log "build picket"
cargo build --locked -q
picket=${CARGO_TARGET_DIR:-$PICKET_ROOT/target}/debug/picket

scratch_begin
cd "$work"

log "a test CA and a broker: plain for Home Assistant, TLS with a password for the uplink"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=picket ha-check CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out server.pem \
  -extfile server.ext 2>/dev/null
mosquitto_passwd -c -b passwd porch 'ha-check password'
chmod 0644 server.key passwd # mosquitto drops to its own user when started as root
plain=$(free_port)
tls=$(free_port)
user=""
[ "$(id -u)" -ne 0 ] || user="user root"
cat >mosquitto.conf <<EOF
per_listener_settings true
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
$user
listener $plain 127.0.0.1
allow_anonymous true
listener $tls 127.0.0.1
cafile $work/ca.pem
certfile $work/server.pem
keyfile $work/server.key
password_file $work/passwd
allow_anonymous false
EOF
mosquitto -c mosquitto.conf 2>mosquitto.log &
pids+=("$!")

log "Home Assistant $HA_VERSION on 127.0.0.1"
ha_port=$(free_port)
mkdir ha
cat >ha/configuration.yaml <<EOF
homeassistant:
  name: picket ha-check
  unit_system: metric
  time_zone: UTC
http:
  server_host: 127.0.0.1
  server_port: $ha_port
api:
logger:
  default: warning
EOF
# The REST and websocket calls, with the venv's Python (aiohttp comes with Home Assistant).
cat >ha.py <<'EOF'
import asyncio, json, os, sys, time, urllib.parse, urllib.request
import aiohttp

URL = f"http://127.0.0.1:{os.environ['HA_PORT']}"
TOKEN_FILE = "token"

def call(method, path, body=None, form=None, token=True, raw=False):
    headers = {}
    data = None
    if token:
        headers["Authorization"] = "Bearer " + open(TOKEN_FILE).read()
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(URL + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        out = r.read()
    return out if raw else json.loads(out or b"null")

def until(what, f, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = f()
            if got:
                return got
        except Exception as e:  # not up yet
            last = e
        if time.monotonic() > deadline:
            sys.exit(f"ha-check: {what}: not within {timeout} s")
        time.sleep(0.1)

async def registry():
    async with aiohttp.ClientSession() as s, s.ws_connect(URL + "/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": open(TOKEN_FILE).read()})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "config/entity_registry/list"})
        return (await ws.receive_json())["result"]

def picket_entities(box):
    ours = [e for e in asyncio.run(registry())
            if e["platform"] == "mqtt" and (e.get("unique_id") or "").startswith(f"picket_{box}_")]
    states = {s["entity_id"]: s for s in call("GET", "/api/states")}
    return [(e["entity_id"], e["unique_id"], states.get(e["entity_id"], {}).get("state")) for e in ours]

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "up":
    t0 = time.monotonic()
    until("HTTP", lambda: call("GET", "/api/onboarding", token=False), 120)
    print(f"{time.monotonic() - t0:.1f}")
elif cmd == "onboard":
    client = URL + "/"
    code = call("POST", "/api/onboarding/users", token=False, body={
        "client_id": client, "name": "picket", "username": "picket",
        "password": "picket ha-check", "language": "en"})["auth_code"]
    tok = call("POST", "/auth/token", token=False, form={
        "grant_type": "authorization_code", "code": code, "client_id": client})
    open(TOKEN_FILE, "w").write(tok["access_token"])
elif cmd == "mqtt":
    flow = call("POST", "/api/config/config_entries/flow", body={"handler": "mqtt"})
    done = call("POST", f"/api/config/config_entries/flow/{flow['flow_id']}",
                body={"broker": "127.0.0.1", "port": int(args[0])})
    assert done["type"] == "create_entry", done
elif cmd == "entities":
    box, want, timeout, since = args[0], int(args[1]), float(args[2]), float(args[3])
    found = until(f"{want} entities", lambda: (lambda e: e if len(e) >= want and all(
        s not in (None, "unavailable") for _, _, s in e) else None)(picket_entities(box)), timeout)
    print(f"# {len(found)} entities, all with a state {time.time() - since:.1f} s after the uplink started")
    for e in sorted(found):
        print("  ".join(str(x) for x in e))
elif cmd == "state":
    entity, want, timeout, since = args[0], args[1], float(args[2]), float(args[3])
    until(f"{entity} {want}", lambda: call("GET", f"/api/states/{entity}")["state"] == want, timeout)
    print(f"{time.time() - since:.2f}")
elif cmd == "get":
    print(call("GET", f"/api/states/{args[0]}")["state"])
elif cmd == "image":
    jpeg = call("GET", f"/api/image_proxy/{args[0]}", raw=True)
    assert jpeg[:2] == b"\xff\xd8", jpeg[:16]
    print(len(jpeg))
elif cmd == "service":
    domain, service, entity, code = args
    call("POST", f"/api/services/{domain}/{service}", body={"entity_id": entity, "code": code})
elif cmd == "unavailable":
    box, timeout, since = args[0], float(args[1]), float(args[2])
    until("unavailable", lambda: all(s == "unavailable" for _, _, s in picket_entities(box)), timeout)
    print(f"{time.time() - since:.2f}")
EOF
ha() { HA_PORT=$ha_port "$venv/bin/python" ha.py "$@"; }
t0=$(date +%s.%N)
"$venv/bin/hass" -c ha --skip-pip >hass.log 2>&1 &
pids+=("$!")
up=$(ha up)
ha onboard
ha mqtt "$plain"
log "Home Assistant answered after ${up} s; MQTT integration on port $plain"

log "picket run on the clip, then picket uplink with discovery, snapshots and commands"
printf 'ha-check password\n' >uplink.password
printf '%s\n' "$CODE" >uplink.code
chmod 0600 uplink.password uplink.code
sed "s#/tmp/picket-demo/events.db#$work/events.db#" "$PICKET_ROOT/board/config/demo.toml" >picket.toml
cat >>picket.toml <<EOF

[uplink]
url = "mqtts://127.0.0.1:$tls"
box_id = "$BOX"
username = "porch"
password_file = "$work/uplink.password"
ca_file = "$work/ca.pem"
homeassistant = true
snapshots = true
commands = true
code_file = "$work/uplink.code"
heartbeat_s = 5
state_file = "$work/cursor"
state_json = "$work/state.json"
EOF
run_clip() {
  RUST_LOG=info "$picket" run --fast --config picket.toml --source "$CLIP" --state-file arming.toml \
    >>run.log 2>&1 || { cat run.log; die "picket run failed"; }
}
run_clip
started=$(date +%s.%N)
RUST_LOG=info "$picket" uplink --config picket.toml >uplink.log 2>&1 &
uplink_pid=$!
pids+=("$uplink_pid")
entities=$(ha entities "$BOX" 6 60 "$started") || { cat uplink.log; die "the entities did not appear"; }
printf '%s\n' "$entities"
alarm=$(awk -v u="picket_${BOX}_alarm" '$2 == u { print $1 }' <<<"$entities")
image=$(awk -v u="picket_${BOX}_snapshot" '$2 == u { print $1 }' <<<"$entities")
[ -n "$alarm" ] && [ -n "$image" ] || die "no alarm panel or image entity"
log "the snapshot through Home Assistant's image proxy: $(ha image "$image") bytes of JPEG"
[ "$(ha get "$alarm")" = armed_away ] || die "$alarm is not armed_away"

log "disarm from Home Assistant with a wrong code: nothing may happen"
ha service alarm_control_panel alarm_disarm "$alarm" 0000
! wait_for_file cursor.request 3 || die "a wrong code made a request"
wrong=$(grep -c "wrong code" uplink.log || true)
[ "$wrong" -eq 1 ] || die "the uplink logged 'wrong code' $wrong times"
[ "$(ha get "$alarm")" = armed_away ] || die "$alarm changed after a wrong code"

log "disarm with the right code: a request, applied by picket run"
ha service alarm_control_panel alarm_disarm "$alarm" "$CODE"
wait_for_file cursor.request 10 || die "no request after the right code"
started=$(date +%s.%N)
run_clip &
run_pid=$!
took=$(ha state "$alarm" disarmed 60 "$started")
wait "$run_pid" || die "picket run failed"
[ ! -e cursor.request ] || die "picket run left the request"
log "$alarm: disarmed in Home Assistant ${took} s after picket run started (it applies the request at start)"
disarmed=$("$picket" events list --db events.db --kind disarmed --json)
grep -q '"source": "mqtt"' <<<"$disarmed" || die "no disarmed event from mqtt: $disarmed"

log "SIGKILL the uplink: the last will makes every entity unavailable"
started=$(date +%s.%N)
{
  kill -KILL "$uplink_pid"
  wait "$uplink_pid"
} 2>/dev/null || true
took=$(ha unavailable "$BOX" 30 "$started")
log "every picket entity unavailable ${took} s after the SIGKILL"
errors=$(grep -c " ERROR " uplink.log || true)
[ "$errors" -eq 0 ] || { cat uplink.log; die "the uplink logged errors"; }
log "done in $(python3 -c "import time; print(round(time.time() - $t0))") s"
