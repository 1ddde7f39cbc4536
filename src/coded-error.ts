/**
 * The one error convention of ts-vpn. Every error class it throws extends CodedError:
 *  - `code`: a stable string from that class's own union type (programs switch on it;
 *    it never changes for a given cause): UPPER_SNAKE constants — the protocol core's
 *    keep their Node-style `ERR_HDLC_*` / `ERR_PPP_*` spelling, the rest name their
 *    layer (`TUN_*`, `NETLINK_*`, `CONFIG_INVALID`, `HOST_KEY_*`, ...) — except
 *    TunnelError, whose codes are the runtime's failure kinds (`connect`, `ppp`, ...);
 *  - `name`: the class name, set by each class (bundling may rename classes);
 *  - `message`: for people, naming the field or cause and the fix; it may change;
 *  - `cause`: the lower-level error, when there is one.
 * Peer input never throws (it is counted and dropped); these report local misuse,
 * configuration and system failures. Exit codes are the CLI's (src/cli/exit-codes.ts).
 * No I/O here: every floor, the sans-IO core included, may import it.
 */
export class CodedError<C extends string = string> extends Error {
  /** Stable machine-readable code. */
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is an instance of `cls`, with `code` when one is given. */
export function hasCode<E extends CodedError>(
  err: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: any constructor of an error class
  cls: abstract new (...args: any[]) => E,
  code?: E['code'],
): err is E {
  return err instanceof cls && (code === undefined || err.code === code);
}
