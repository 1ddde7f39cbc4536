#!/usr/bin/env bash
# ts-vpn demo: a tunnel from a "client" namespace to a throwaway "server" namespace over a
# real sshd, traffic through it, status, and a clean teardown. Needs root; touches only
# namespaces it creates (tv-cli-ID, tv-srv-ID, tv-lan-ID) and removes them on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ID="d$(head -c 2 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export TSVPN_DEMO_ID="$ID"
cleanup() {
  # Normally demo.ts has removed everything already; this covers a crash or kill -9.
  for ns in "tv-cli-$ID" "tv-srv-$ID" "tv-lan-$ID"; do
    if ip netns list | grep -q "^$ns\b"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
      echo "demo: removed leftover namespace $ns" >&2
    fi
  done
}
trap cleanup EXIT
node --import tsx scripts/demo.ts
