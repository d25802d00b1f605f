#!/usr/bin/env bash
# run.sh — `make test-multihost`: an mpi sweep whose ranks run on two hosts, made for the test.
#
# Three network namespaces: a "switch" holding a bridge (where the engine runs, as a login
# node would) and two hosts, each joined to the bridge by a veth and running its own sshd on
# its own address, in a UTS namespace of its own so that it has its own host name. Keys are
# made for the test. mpirun (run by the engine in the switch) reaches both hosts through a
# hostfile and ssh; the ranks connect back to the engine and talk to each other across the
# bridge. No traffic leaves the namespaces. Checks: per-rank host names show both hosts,
# every result verifies and matches serial bit for bit; then everything is torn down and
# the test fails if a namespace, a process or a mount is left.
# Needs root, iproute2, openssh-server/client, util-linux (unshare) and OpenMPI.
set -euo pipefail
cd "$(dirname "$0")/../.."

ENGINE=${SCALELAB_ENGINE:-$PWD/build/bin/scalelab-engine}
TAG="slmh$$"                      # names of everything this run creates
NS_SW="$TAG-sw" NS_A="$TAG-a" NS_B="$TAG-b"
NET=10.77.$(( $$ % 200 + 20 ))    # a /24 of our own (private, never routed out)
ADDR_SW="$NET.254" ADDR_A="$NET.1" ADDR_B="$NET.2"
WORK=$(mktemp -d /tmp/"$TAG".XXXXXX)
SSHD_PIDS=()
status=1
trap 'exit 1' INT TERM

say() { printf 'multihost: %s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || { say "skipped: needs root (network namespaces)"; exit 0; }
unshare --net --uts true 2>/dev/null ||
    { say "skipped: this host refuses new network namespaces (a container without CAP_SYS_ADMIN)"; exit 0; }
for tool in ip unshare /usr/sbin/sshd ssh ssh-keygen mpirun; do
    command -v "$tool" >/dev/null || fail "$tool is missing (./setup.sh test installs it)"
done
[ -x "$ENGINE" ] || fail "no engine at $ENGINE (run make first)"

teardown() {
    local left=0
    for pid in "${SSHD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${SSHD_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    # whatever still runs inside our namespaces (a stray orted or rank) goes too
    for ns in "$NS_A" "$NS_B" "$NS_SW"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
    sleep 0.2
    # nothing of ours may be left: namespaces, their mounts, processes
    if ip netns list | grep -q "$TAG"; then say "left behind: namespace(s) $(ip netns list | grep "$TAG")"; left=1; fi
    if grep -q "$TAG" /proc/mounts; then say "left behind: mount(s) $(grep "$TAG" /proc/mounts)"; left=1; fi
    if pgrep -f "$TAG" >/dev/null; then say "left behind: process(es) $(pgrep -af "$TAG")"; left=1; fi
    if [ "$left" -eq 0 ]; then say "torn down: no namespace, process or mount left"; fi
    if [ "$status" -eq 0 ] && [ "$left" -eq 0 ]; then say "PASS"; else say "FAILED"; exit 1; fi
}
trap teardown EXIT

# --- the network: a bridge in the switch namespace, a veth to each host ---
for ns in "$NS_SW" "$NS_A" "$NS_B"; do ip netns add "$ns"; done
ip -n "$NS_SW" link add br0 type bridge
ip -n "$NS_SW" addr add "$ADDR_SW/24" dev br0
ip -n "$NS_SW" link set br0 up
ip -n "$NS_SW" link set lo up
for h in a b; do
    ns="$TAG-$h"
    addr=$([ "$h" = a ] && echo "$ADDR_A" || echo "$ADDR_B")
    ip link add "$TAG$h" netns "$NS_SW" type veth peer name eth0 netns "$ns"
    ip -n "$NS_SW" link set "$TAG$h" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
done

# --- keys made for the test, an sshd per host on its own address and host name ---
mkdir -p /run/sshd # sshd's privilege-separation directory (Debian's package makes it at boot)
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id" >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey" >/dev/null
cp "$WORK/id.pub" "$WORK/authorized_keys"
chmod 600 "$WORK/authorized_keys"
for h in a b; do
    addr=$([ "$h" = a ] && echo "$ADDR_A" || echo "$ADDR_B")
    cat >"$WORK/sshd_$h" <<EOF
ListenAddress $addr
Port 22
HostKey $WORK/hostkey
AuthorizedKeysFile $WORK/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $WORK/sshd_$h.pid
AcceptEnv OMPI_*
EOF
    ip netns exec "$TAG-$h" unshare --uts sh -c "hostname $TAG-host-$h && exec /usr/sbin/sshd -D -e -f $WORK/sshd_$h" \
        2>"$WORK/sshd_$h.log" &
    SSHD_PIDS+=($!)
done
cat >"$WORK/ssh_config" <<EOF
Host *
    IdentityFile $WORK/id
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    BatchMode yes
    ConnectTimeout 5
EOF
for addr in "$ADDR_A" "$ADDR_B"; do
    for _ in $(seq 50); do
        ip netns exec "$NS_SW" ssh -F "$WORK/ssh_config" "$addr" true 2>/dev/null && break
        sleep 0.1
    done
    name=$(ip netns exec "$NS_SW" ssh -F "$WORK/ssh_config" "$addr" hostname) ||
        fail "ssh to $addr does not work: $(cat "$WORK"/sshd_*.log)"
    say "host $addr answers as $name"
done

# --- the sweep: the engine in the switch namespace, ranks on both hosts ---
printf '%s slots=1\n%s slots=1\n' "$ADDR_A" "$ADDR_B" >"$WORK/hostfile"
export OMPI_MCA_plm_rsh_agent="ssh -F $WORK/ssh_config"
export OMPI_MCA_btl_tcp_if_include="$NET.0/24" OMPI_MCA_oob_tcp_if_include="$NET.0/24"
out="$WORK/out.jsonl"
ip netns exec "$NS_SW" "$ENGINE" run paths --set m=600 --set n=400 --backends serial,mpi \
    --cores 1,2 --hostfile "$WORK/hostfile" --repeats 3 --warmup 1 --json >"$out" ||
    fail "the engine failed (exit $?)"
python3 - "$out" "$TAG-host-a" "$TAG-host-b" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
header = lines[0]
ms = [l for l in lines if l["type"] == "measurement"]
print("multihost: hostfile hosts and slots in the header:", header["mpi_hosts"])
serial = {m["result_count"] for m in ms if m["backend"] == "serial"}
assert len(serial) == 1, f"serial results differ: {serial}"
for m in ms:
    assert m["verified"], f"{m['backend']} x{m['cores']} did not verify: {m.get('message')}"
    assert m["result_count"] in serial, f"{m['backend']} x{m['cores']} differs from serial"
two = [m for m in ms if m["backend"] == "mpi" and m["cores"] == 2]
assert two, "no mpi run on 2 ranks"
hosts = set(two[0]["hosts"])
print(f"multihost: per-rank hosts at 2 ranks: {two[0]['hosts']}")
assert hosts == {sys.argv[2], sys.argv[3]}, f"ranks ran on {hosts}, not on both hosts"
for m in ms:
    if m["backend"] == "mpi":
        print(f"multihost: mpi x{m['cores']} paths={m['result_count']} (serial {next(iter(serial))}) "
              f"wall {m['wall_ns']/1e6:.1f} ms, communication {m['comm_ns']/1e6:.1f} ms, "
              f"launch {m['launch_ns']/1e6:.0f} ms")
print(f"multihost: {len(ms)} runs verified and match serial bit for bit")
EOF
status=0
