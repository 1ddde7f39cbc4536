/**
 * Regressions found by bench/fuzz: peer-controlled text (LCP Terminate-Request
 * reason, PAP user name and Ack/Nak message, CHAP name and Success/Failure
 * message) reached log lines and event reasons raw, so a peer could forge log
 * lines ("\n") or send terminal escapes. Now escaped pppd-style.
 */
import { describe, expect, it } from 'vitest';
import { buildEngine } from '../../bench/fuzz/engines.js';
import { ChapServer, PapClient, PapServer } from '../../src/auth/index.js';
import { PppEngine } from '../../src/engine/index.js';
import { HdlcFramer } from '../../src/hdlc/index.js';
import { visibleString } from '../../src/ppp/bytes.js';
import { emitControlPacket } from '../../src/ppp/packet.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const enc = (s: string) => new TextEncoder().encode(s);

function frame(protocol: number, info: Uint8Array): Uint8Array {
  const f = new HdlcFramer();
  f.writeFrame(protocol, info, true);
  return f.take()!;
}

describe('peer text never reaches logs or reasons with control characters', () => {
  it('visibleString prints like pppd %v', () => {
    expect(visibleString(Uint8Array.from([0x41, 0x0a, 0x1b, 0x7f, 0xc1, 0x09]))).toBe(
      'A^J^[^?M-A^I',
    );
  });

  it('LCP Terminate-Request reason with a newline and ESC: log line and finished reason are escaped', () => {
    const log: string[] = [];
    const b = buildEngine('client', 'up', 7, (l) => log.push(l))!;
    b.engine.takeEvents();
    const reason = enc('bye\nts-vpn: tunnel up 6.6.6.6\u001b[2J');
    b.engine.receive(frame(0xc021, emitControlPacket(5, 9, reason)), b.now);
    const evs = b.engine.takeEvents();
    const term = log.find((l) => l.startsWith('LCP terminated by peer'));
    expect(term).toBe('LCP terminated by peer (bye^Jts-vpn: tunnel up 6.6.6.6^[[2J)');
    for (const l of log) expect(l).not.toMatch(CONTROL);
    const down = evs.find((e) => e.type === 'down');
    expect(down).toBeDefined();
    if (down?.type === 'down') {
      expect(down.reason).toContain('^J');
      expect(down.reason).not.toMatch(CONTROL);
    }
  });

  it('PAP: a user name with a newline is escaped in the result message, the Ack message too', () => {
    const s = new PapServer({ verify: () => false });
    s.start(0);
    const user = enc('eve\nforged');
    const data = Uint8Array.from([user.length, ...user, 1, 0x78]);
    const r = s.receive({ code: 1, id: 1, data }, 0);
    expect(r.result?.message).toBe('PAP peer authentication failed for eve\\x0aforged');
    const c = new PapClient({ user: 'alice', password: 'x' });
    c.start(0);
    const msg = enc('ok\r\nroot logged in');
    const a = c.receive({ code: 2, id: 1, data: Uint8Array.from([msg.length, ...msg]) }, 0);
    expect(a.result?.message).toBe('ok\\x0d\\x0aroot logged in');
  });

  it('CHAP: a peer name with control characters is escaped in the result message', () => {
    const s = new ChapServer({ name: 'gw', secretFor: () => 's', random32: () => 1 });
    const st = s.start(0);
    const id = st.send[0].id;
    const name = enc('x\u001b]0;pwned\u0007');
    const r = s.receive(
      { code: 2, id, data: Uint8Array.from([16, ...new Uint8Array(16), ...name]) },
      0,
    );
    expect(r.result?.ok).toBe(false);
    expect(r.result?.message).not.toMatch(CONTROL);
    expect(r.result?.message).toContain('\\x1b');
  });

  it('engine auth failure with a hostile PAP user name: no control characters in any log line', () => {
    const log: string[] = [];
    const b = buildEngine('server', 'auth', 3, (l) => log.push(l), undefined, 'pap')!;
    const user = enc('a\nb');
    b.engine.receive(
      frame(0xc023, emitControlPacket(1, 1, Uint8Array.from([user.length, ...user, 0]))),
      b.now,
    );
    const evs = b.engine.takeEvents();
    expect(evs.some((e) => e.type === 'auth-failed')).toBe(true);
    for (const l of log) expect(l).not.toMatch(CONTROL);
    for (const e of evs) if (e.type === 'auth-failed') expect(e.message).not.toMatch(CONTROL);
  });

  it('a fresh engine is not confused by the same input (sanity of the fixture)', () => {
    const e = new PppEngine({ random32: () => 5 });
    e.open(0);
    e.receive(frame(0xc021, emitControlPacket(5, 1, enc('\n'))), 0);
    expect(e.stats().protocols.lcp.rxPackets).toBe(1);
  });
});
