/** The typed result of `peer.yaml` (see peer.ts for parsing, docs/CONFIG.md for the keys). */
import type { Secret } from './errors.js';

export interface PeerConfig {
  kind: 'peer';
  /** Where the config came from (file path or a label). */
  source: string;
  /** Tunnel name: [a-z0-9-], 1-32 chars; names the state dir /run/ts-vpn/<name> and the lock. */
  name: string;
  ssh: {
    /** The server to connect to: ssh.host, or the HostName ssh_config gives for it. */
    host: string;
    /** ssh.host as written (the name ssh_config's Host patterns are matched against). */
    alias: string;
    port: number;
    user: string;
    /** Private keys to try, in order (expanded, absolute). */
    identityFiles: string[];
    /** False when identityFiles are the defaults (only those that exist are used). */
    identityFilesExplicit: boolean;
    /** ssh-agent socket, or false for none. */
    agent: string | false;
    hostKey: {
      knownHostsFiles: string[];
      fingerprints: string[];
      acceptNew: boolean;
      /** Name looked up in known_hosts instead of host:port (HostKeyAlias). */
      alias?: string;
      /** accept-new writes hashed names (HashKnownHosts). */
      hashNew?: boolean;
    };
    keepaliveIntervalMs: number;
    keepaliveCountMax: number;
    connectTimeoutMs: number;
    ciphers: string[];
    /**
     * Typed authentication when keys do not do (asked only on a terminal): ssh_config's
     * PasswordAuthentication, KbdInteractiveAuthentication, NumberOfPasswordPrompts and
     * BatchMode (which turns both off). peer.yaml has no key for them.
     */
    typedAuth: TypedAuth;
    passphraseFile: string | null;
    /** Read from passphraseFile by loadPeerConfig; never printed. */
    passphrase: Secret | null;
    /** Jump hosts, `[user@]host[:port]`, first hop first (ssh.jump or ProxyJump). */
    jump: string[];
    /** `ssh2`: the built-in client; `openssh`: run the system `ssh` as a local command. */
    client: 'ssh2' | 'openssh';
    /**
     * The jump hosts to cross, first hop first, each with its own settings (ssh_config
     * for its name, else the peer-wide ones); null until loadPeerConfig resolved them.
     */
    hops: SshHop[] | null;
    /** Read ssh_config (`enabled`); `file`: this one file instead of ~/.ssh/config + /etc/ssh/ssh_config. */
    config: { enabled: boolean; file: string | null };
    /** The ssh keys peer.yaml sets (ssh_config and defaults fill the others). */
    given: string[];
    /** Where each effective setting came from: `peer.yaml:12`, `/home/a/.ssh/config:3`, `default`. */
    origins: Record<string, string>;
    /** Debug lines from reading ssh_config (ignored keywords, files read). */
    notes: string[];
    /**
     * The other gateways when ssh.host is a list, in order, each with its own settings
     * (this object describes the first); tried in turn on every connect.
     */
    alternates: Array<PeerConfig['ssh']>;
  };
  /** `gateway`: the unix socket of a `ts-vpn gateway` (direct-streamlocal channel, no command). */
  remote: {
    /** `ssh`: run `command` on ssh.host; `command`: run it locally, PPP over its stdin/stdout. */
    transport: 'ssh' | 'command';
    command: string;
    kind: 'ts-vpn' | 'pppd' | 'gateway';
    kindDetected: boolean;
    gateway: string | null;
    /** Networks behind this client it claims from a gateway (`allow-client-routes` there decides). */
    clientRoutes: string[];
  };
  ppp: {
    /** Our IPv4 address, or null = ask the peer. */
    localAddress: string | null;
    /** The peer's IPv4 address, or null = ask (take what it says). */
    peerAddress: string | null;
    /** Prefixes the peer may assign us. */
    acceptLocal: string[];
    /** Prefixes the peer may use as its own address. */
    acceptPeer: string[];
    mru: number;
    accm: number;
    echoIntervalMs: number;
    echoFailures: number;
    ipv6: boolean;
    usePeerDns: boolean;
    /** Credentials when the far end demands PAP or CHAP; null when not configured. */
    auth: { user: string; password: Secret | null; passwordFile: string | null } | null;
    debug: boolean;
    restartMs: number;
    maxConfigure: number;
    maxTerminate: number;
    maxFailure: number;
  };
  /** `offload`: TCP segmentation offload through the TUN device and GSO frames on the link, when the far end (ts-vpn serve) supports them too. */
  tunnel: {
    interface: string;
    mtu: number | null;
    metric: number | null;
    offload: boolean;
    /** Run as this user / group once the device exists (CAP_NET_ADMIN kept); null = stay root. */
    user: string | null;
    group: string | null;
  };
  routes: string[];
  defaultRoute: boolean;
  dns: { writeTo: string };
  reconnect: {
    enabled: boolean;
    holdoffMs: number;
    maxBackoffMs: number;
    maxFail: number;
    /** A PPP refusal (authentication, unacceptable address): end the tunnel, or keep retrying. */
    onRefusal: 'stop' | 'retry';
  };
  hooks: { up: string | null; down: string | null; timeoutMs: number };
  /** Non-fatal remarks (e.g. pppd without `noauth`), for the log. */
  warnings: string[];
}

/** Which typed SSH authentication may be asked for (see PeerConfig.ssh.typedAuth). */
export interface TypedAuth {
  password: boolean;
  keyboardInteractive: boolean;
  /** Rounds of each (OpenSSH NumberOfPasswordPrompts, default 3). */
  prompts: number;
}

/** One jump host: where to connect and how (see PeerConfig.ssh.hops). */
export interface SshHop {
  /** As written in ssh.jump or ProxyJump, e.g. `bob@bastion:2200`. */
  spec: string;
  /** Where it was written: `peer.yaml:5` or `~/.ssh/config:7`. */
  origin: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  agent: string | false;
  hostKey: PeerConfig['ssh']['hostKey'];
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  connectTimeoutMs: number;
  ciphers: string[];
  typedAuth: TypedAuth;
}
