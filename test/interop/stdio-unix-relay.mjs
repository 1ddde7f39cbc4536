#!/usr/bin/env node
/**
 * `node stdio-unix-relay.mjs UNIX-CONNECT:<socket>` (or a bare socket path): connects to the unix socket and relays bytes
 * both ways between it and this process's stdin/stdout (8-bit clean, like
 * `socat - UNIX-CONNECT:<socket>`). Exits when either side closes. Used by the pppd VM
 * test as the local command of `remote.transport: command`.
 */
import { connect } from 'node:net';

// socat's address form: ts-vpn's StrictModes check of `remote.command` takes a bare
// path word for a file the command runs, and refuses a socket as not a regular file.
const path = process.argv[2]?.replace(/^UNIX-CONNECT:/, '');
if (!path) {
  process.stderr.write('usage: stdio-unix-relay.mjs UNIX-CONNECT:<unix socket path>\n');
  process.exit(2);
}
const sock = connect(path);
sock.on('connect', () => {
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
});
sock.on('error', (err) => {
  process.stderr.write(`stdio-unix-relay: ${path}: ${err.message}\n`);
  process.exit(1);
});
sock.on('close', () => process.exit(0));
process.stdin.on('end', () => sock.end());
process.stdout.on('error', () => process.exit(0));
