#!/bin/busybox sh
# /init of the ts-vpn pppd interop VM (built by scripts/pppd-vm/build.sh).
#
# /dev/ttyS0 carries PPP (a host chardev); the console (ttyS1) carries this
# script's markers and pppd's debug log; /dev/ttyS2 carries the output of the
# ip-up/ipv6-up scripts (pppd writes a log line and its newline separately, so a
# shared console would interleave them mid-line). Parameters come from the kernel command
# line, base64-encoded so that they may hold spaces and quotes:
#   tv_args=  pppd arguments (word-split by this shell; use tv_argv for quoting)
#   tv_argv=  pppd arguments, one per line (taken verbatim)
#   tv_pap=   contents of /etc/ppp/pap-secrets
#   tv_chap=  contents of /etc/ppp/chap-secrets
#   tv_ipup=  shell snippet run from /etc/ppp/ip-up once IPv4 is up ($4 local, $5 remote)
#   tv_ip6up= shell snippet run from /etc/ppp/ipv6-up once IPv6 is up
#   tv_ttl=   seconds after which the VM ends no matter what (a crashed test run
#             must not leave a VM behind; qemu exits on the guest's reboot)
# Markers: TV-BOOT, TV-PPPD-START <args>, TV-PPPD-EXIT <status> on the console,
# TV-IP-UP <ip-up args> and TV-IPV6-UP <args> on ttyS2; then the VM reboots, which ends qemu (-no-reboot).
/bin/busybox mkdir -p /proc /sys /dev /usr/bin /usr/sbin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/ppp /var/run /var/lock
# The PPP line raw and without echo from the start: otherwise the frames the host
# sends before pppd has set up the line are echoed back by the tty (pppd opens it
# in the default cooked mode), and the host sees its own Configure-Requests.
stty -F /dev/ttyS0 raw -echo -echoe -echok -echoctl -echoke 115200 2>/dev/null || echo "TV-ERROR stty ttyS0"
echo "TV-BOOT $(uname -r)"
if grep -q 'tv_probe=1' /proc/cmdline; then
  reboot -f
fi

for m in slhc ppp_generic ppp_async ppp_deflate bsd_comp; do
  insmod "/lib/modules/$m.ko" || echo "TV-ERROR insmod $m"
done
hostname tv-pppd-vm
ip link set lo up

ttl="$(sed -n 's/.*tv_ttl=\([0-9]*\).*/\1/p' /proc/cmdline)"
if [ -n "$ttl" ]; then
  (sleep "$ttl"; echo "TV-TTL-EXPIRED $ttl"; reboot -f) &
fi

decode() { echo "$1" | base64 -d 2>/dev/null; }
args=''
argv_file=''
for kv in $(cat /proc/cmdline); do
  v="${kv#*=}"
  case "$kv" in
    tv_args=*) args="$(decode "$v")" ;;
    tv_argv=*) decode "$v" >/run/pppd-argv; argv_file=/run/pppd-argv ;;
    tv_pap=*) decode "$v" >/etc/ppp/pap-secrets; chmod 600 /etc/ppp/pap-secrets ;;
    tv_chap=*) decode "$v" >/etc/ppp/chap-secrets; chmod 600 /etc/ppp/chap-secrets ;;
    tv_ipup=*) decode "$v" >/etc/ppp/tv-ip-up ;;
    tv_ip6up=*) decode "$v" >/etc/ppp/tv-ipv6-up ;;
  esac
done

cat >/etc/ppp/ip-up <<'EOF'
#!/bin/sh
exec >/dev/ttyS2 2>&1
echo "TV-IP-UP $*"
[ -f /etc/ppp/tv-ip-up ] && . /etc/ppp/tv-ip-up
exit 0
EOF
cat >/etc/ppp/ipv6-up <<'EOF'
#!/bin/sh
exec >/dev/ttyS2 2>&1
echo "TV-IPV6-UP $*"
[ -f /etc/ppp/tv-ipv6-up ] && . /etc/ppp/tv-ipv6-up
exit 0
EOF
chmod 755 /etc/ppp/ip-up /etc/ppp/ipv6-up

# The line: 8-bit clean, no modem control lines, no lock files.
if [ -n "$argv_file" ]; then
  set --
  while IFS= read -r a; do set -- "$@" "$a"; done <"$argv_file"
else
  # shellcheck disable=SC2086
  set -- $args
fi
echo "TV-PPPD-START $*"
# pppd's log goes through a pipe, not straight to the console tty: a write to the
# tty may block (the UART is slow under TCG), and when a signal (SIGCHLD of an
# ip-up script) interrupts it, pppd sees a short write and stops logging to the fd
# for good (log_write() sets log_to_fd = -1). A pipe write with room never blocks.
{ pppd /dev/ttyS0 115200 local nocrtscts nodetach logfd 2 "$@" 2>&1; echo "$?" >/run/pppd-rc; } | cat
rc="$(cat /run/pppd-rc 2>/dev/null || echo 255)"
echo "TV-PPPD-EXIT $rc"
sync
reboot -f
