/** Help texts of `ts-vpn` and its commands. */
import { EXIT_CODE_HELP } from './exit-codes.js';

const SERVE_GLOBAL = `Global options:
  --debug                 log every PPP packet (pppd style) and show stack traces
  --log-format text|json  log line format on stderr (default text)
  -h, --help              help for a command
Each option may be given once (--client-route as often as needed); serve takes no
--state-dir (state-dir is set in server.yaml).`;

const GLOBAL = `Global options:
  --debug                 log every PPP packet (pppd style) and show stack traces
  --log-format text|json  log line format on stderr (default text)
  --state-dir DIR         where running tunnels keep pid, state and control socket
                          (default /run/ts-vpn)
  -h, --help              help for a command`;

export const HELP: Record<string, string> = {
  main: `ts-vpn — PPP over SSH VPN

Usage:
  ts-vpn up <peer.yaml>          bring a tunnel up (foreground; needs root or CAP_NET_ADMIN)
  ts-vpn serve [server.yaml]     far end: speak PPP on stdin/stdout (run by ssh)
  ts-vpn gateway [gateway.yaml]  far end for every client: one daemon, reached over
                                 SSH with no process or sudo rule per user
  ts-vpn check <file.yaml>       validate a peer, server or gateway config, print what
                                 it means (--peer / --server / --gateway to say which)
  ts-vpn status [name] [--json]  show running tunnels (and the gateway's sessions)
  ts-vpn down [name]             stop a running tunnel gracefully
                                 (--session ID: end one gateway session)
  ts-vpn version                 print the version
  ts-vpn help [command]          this text, or a command's

Examples:
  sudo ts-vpn up /etc/ts-vpn/office.yaml
  ts-vpn check office.yaml
  sudo ts-vpn status
  sudo ts-vpn down office

${GLOBAL}

Configuration reference: docs/CONFIG.md

${EXIT_CODE_HELP}`,

  up: `Usage: ts-vpn up <peer.yaml> [--debug] [--log-format text|json] [--state-dir DIR]

Connects to the SSH server (host key checked against known_hosts or a pinned
fingerprint before authenticating), runs remote.command without a pty, negotiates
PPP over the channel, creates the TUN interface, sets its addresses, MTU and routes,
and carries traffic until interrupted. Runs in the foreground; logs go to stderr.
When the SSH server wants a password or keyboard-interactive answers and stdin is a
terminal, they are asked there with echo off (never logged); without a terminal, such a
server fails with exit 5 (docs/SSH.md).

A lost link (LCP echo failure, SSH keepalive timeout, the far end exiting, a change
of the route to the SSH server) is brought back per reconnect: (holdoff, backoff up
to max-backoff, max-fail); the interface and routes stay meanwhile. Under systemd
(Type=notify) it sends READY/STATUS/STOPPING and WATCHDOG pings.

Signals:
  SIGINT, SIGTERM   graceful shutdown: down hook, LCP Terminate, routes and interface removed
  SIGHUP            drop the link and reconnect now (not counted as a failure)
  SIGUSR1           toggle --debug

Examples:
  sudo ts-vpn up office.yaml
  sudo ts-vpn up office.yaml --debug          # pppd-style packet log
  sudo ts-vpn up office.yaml --log-format json

${GLOBAL}

${EXIT_CODE_HELP}`,

  gateway: `Usage: ts-vpn gateway [gateway.yaml] [--config gateway.yaml] [--debug]

One daemon serving every client session (docs/GATEWAY.md). Listens on a unix socket
(default /run/ts-vpn/gateway.sock) that clients reach through SSH with no process on
the server (peer.yaml: remote: { gateway: /run/ts-vpn/gateway.sock }). Each
connection's SSH user is known from the socket's peer credentials; gateway.yaml says
what each user or group gets (address or pool, routes, DNS, max sessions) or refuses
them (an LCP Terminate-Request with the reason; the client exits with 6). One TUN
device per session (tsvg0, tsvg1, ...); proxy ARP and masquerading on the LAN side
when configured. Everything it added is removed when it stops (SIGINT, SIGTERM).
Runs under systemd as Type=notify (examples/ts-vpn-gateway.service).

\`ts-vpn status [--json]\` lists its sessions; \`ts-vpn down --session ID\` ends one.
SIGHUP (systemctl reload) reads gateway.yaml again: users, groups and defaults apply
to sessions that start from then on; sessions up keep running.

Once it listens it keeps only CAP_NET_ADMIN; with run-as: { user, group } in
gateway.yaml it also becomes that account (docs/SECURITY.md). \`ts-vpn check
gateway.yaml\` validates the file and prints what it means.

Exit codes: 0 stopped cleanly, 2 configuration error (also an unknown run-as
account), 8 setup failed (not root, forwarding off with forwarding: check,
lan-interface missing, socket path busy, switching to run-as failed).

${GLOBAL}`,

  serve: `Usage: ts-vpn serve [server.yaml] [--config server.yaml] [--client-route PREFIX]… [--debug]

The far end of a tunnel: speaks PPP on stdin/stdout, assigns the client an address
from the pool (or the fixed peer-address), creates a TUN interface (tsvs0, tsvs1, …)
and removes everything when the client goes away (stdin EOF, LCP Terminate or echo
failure). Logs go to stderr, which the SSH client shows. Without a config file it
serves 10.77.0.0/24 with 10.77.0.1 as its own address. Needs root or CAP_NET_ADMIN
(e.g. through a narrow sudoers line).

A session beyond max-sessions is refused: LCP comes up only to carry a
Terminate-Request with the reason, which the client prints (exit 6 there).
--client-route PREFIX (repeatable) claims a network behind the client; the server
routes it to this session only if it lies inside allow-client-routes. Through sudo,
give each such client its own exact sudoers line with its --client-route arguments
(examples/sudoers.ts-vpn); never widen a line with "*". An option given twice (two
--config) is refused, so nothing appended can replace the config.

Examples:
  # in the client's peer.yaml:
  remote:
    command: sudo -n /usr/local/bin/ts-vpn serve --config /etc/ts-vpn/server.yaml
  # a client with a LAN of its own (server.yaml: allow-client-routes: [192.168.100.0/24]):
    command: sudo -n /usr/local/bin/ts-vpn serve --config /etc/ts-vpn/server.yaml --client-route 192.168.100.0/24
  # with stock pppd as the client:
  pppd pty "ssh gw sudo ts-vpn serve" noauth nodetach

${SERVE_GLOBAL}

${EXIT_CODE_HELP}`,

  check: `Usage: ts-vpn check <peer.yaml|server.yaml|gateway.yaml> [--peer | --server | --gateway]

Validates a configuration file (including key and secret file permissions, and
known_hosts presence) and prints what it means. Changes nothing on the system.
Exit code 0 when valid, 2 with one line per problem otherwise.

Whether the file is a peer file (ts-vpn up), a server file (ts-vpn serve) or a
gateway file (ts-vpn gateway) is told by its content, never its name: keys only a
peer file has (ssh, remote, ppp, tunnel, …), only a server file has (peer-address,
allow-client-routes, routes, dns) or only a gateway file has (socket, pools, users,
groups, lan-interface, proxy-arp, run-as, …). An empty file, a file that mixes kinds,
or one whose keys fit a peer and a server file (only routes) is an error; --peer,
--server or --gateway says which it is. Keys a server and a gateway file share only
(pool, max-sessions, …) are read as a server file.

  --peer     check the file as a peer (ts-vpn up) configuration
  --server   check the file as a server (ts-vpn serve) configuration
  --gateway  check the file as a gateway (ts-vpn gateway) configuration

Examples:
  ts-vpn check office.yaml
  ts-vpn check /etc/ts-vpn/server.yaml
  ts-vpn check /etc/ts-vpn/gateway.yaml
  ts-vpn check minimal.yaml --server

${GLOBAL}

${EXIT_CODE_HELP}`,

  status: `Usage: ts-vpn status [name] [--json]

Without a name: one line per running tunnel. With a name: every detail (phase,
interface, addresses, routes, uptime, traffic, drops and errors by cause, LCP echo
round trip, reconnects with the last reason and time to recover, SSH). --json prints
the TunnelStatus object (an array without a name), as documented in docs/SERVICE.md.
When none is running: "no tunnel is running" and exit 9; with --json, [] and exit 0
(an empty list is the answer); a name that is not running: exit 9 either way.
The state directory is root's: run as another user, status says root is needed
(exit 10) rather than guessing that nothing runs.

Examples:
  sudo ts-vpn status
  sudo ts-vpn status office --json

${GLOBAL}

${EXIT_CODE_HELP}`,

  down: `Usage: ts-vpn down [name]

Asks a running tunnel to shut down gracefully (same as SIGTERM) and waits for it to
finish. The name may be left out when only one tunnel runs. Needs root (the state
directory is root's; exit 10 otherwise).

Examples:
  sudo ts-vpn down office

${GLOBAL}

${EXIT_CODE_HELP}`,

  version: `Usage: ts-vpn version

Prints the ts-vpn version (also: ts-vpn --version).

Examples:
  ts-vpn version

${EXIT_CODE_HELP}`,

  help: `Usage: ts-vpn help [command]

Prints the overview, or a command's help (the same as ts-vpn <command> --help).

Examples:
  ts-vpn help
  ts-vpn help up

${EXIT_CODE_HELP}`,
};
