;; HDLC transmit and receive kernels (RFC 1662 §4.2 octet stuffing and its removal, §C.2
;; FCS-16) with 128-bit SIMD. Source of kernel-bytes.ts: edit this file, then
;; `node scripts/build-wasm.mjs`. A framer and a deframer each get their own instance, and
;; lay out its memory differently above the FCS tables.
;;
;; Transmit layout (offsets in octets; constants mirrored in KernelLayout, kernel.ts):
;;   0      FCS-16 slicing-by-16 tables: table k (CRC of octet b then k zero octets) at k*512,
;;          256 little-endian u16 entries each (filled by the host at instantiation)
;;   8192   escape set 0 (negotiated ACCM), 8704 escape set 1 (link defaults), each:
;;          +0 256-octet table (1 = escape this octet), +256 16 octets 0xff where control
;;          character 0-15 is mapped, +272 the same for 16-31
;;   9216   compaction patterns: 256 swizzle patterns of 16 octets; pattern m keeps, of the
;;          pairs [x_i, y_i] i = 0..7, x_i always and y_i where bit i of m is set
;;   13312  stage: header + information field of the frame being written
;;   STAGE_END.. output: the framer's pending bytes (grown by the host with memory.grow)
;;
;; Receive layout (RxLayout in kernel.ts):
;;   0      FCS-16 tables, as above
;;   8192   receive set: +0 256-octet table (unused here), +256 / +272 16-octet masks of the
;;          control characters 0-15 / 16-31 mapped in the receive ACCM (0xff = discard)
;;   9216   removal patterns: 256 swizzle patterns of 16 octets; pattern m lists, in order,
;;          the lanes i = 0..7 whose bit i of m is clear (the octets to keep)
;;   13312  result word: the output offset after `unstuff`
;;   13376  frame: the unstuffed frame being received
;;   79040  input: the part of the received chunk being scanned
(module
  (memory (export "mem") 3)

  ;; Running FCS-16 over [p, p+n) from c (not complemented), 16 octets per step:
  ;; c ^= first two octets, then the XOR of one table lookup per octet.
  (func $fcs (param $p i32) (param $n i32) (param $c i32) (result i32)
    (local $end i32) (local $w i32) (local $x i32) (local $y i32) (local $z i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $w (i32.xor (i32.load (local.get $p)) (local.get $c)))
        (local.set $x (i32.load offset=4 (local.get $p)))
        (local.set $y (i32.load offset=8 (local.get $p)))
        (local.set $z (i32.load offset=12 (local.get $p)))
        (local.set $c
          (i32.xor
            (i32.xor
              (i32.xor
                (i32.xor
                  (i32.load16_u offset=7680 (i32.and (i32.shl (local.get $w) (i32.const 1)) (i32.const 0x1fe)))
                  (i32.load16_u offset=7168 (i32.and (i32.shr_u (local.get $w) (i32.const 7)) (i32.const 0x1fe))))
                (i32.xor
                  (i32.load16_u offset=6656 (i32.and (i32.shr_u (local.get $w) (i32.const 15)) (i32.const 0x1fe)))
                  (i32.load16_u offset=6144 (i32.and (i32.shr_u (local.get $w) (i32.const 23)) (i32.const 0x1fe)))))
              (i32.xor
                (i32.xor
                  (i32.load16_u offset=5632 (i32.and (i32.shl (local.get $x) (i32.const 1)) (i32.const 0x1fe)))
                  (i32.load16_u offset=5120 (i32.and (i32.shr_u (local.get $x) (i32.const 7)) (i32.const 0x1fe))))
                (i32.xor
                  (i32.load16_u offset=4608 (i32.and (i32.shr_u (local.get $x) (i32.const 15)) (i32.const 0x1fe)))
                  (i32.load16_u offset=4096 (i32.and (i32.shr_u (local.get $x) (i32.const 23)) (i32.const 0x1fe))))))
            (i32.xor
              (i32.xor
                (i32.xor
                  (i32.load16_u offset=3584 (i32.and (i32.shl (local.get $y) (i32.const 1)) (i32.const 0x1fe)))
                  (i32.load16_u offset=3072 (i32.and (i32.shr_u (local.get $y) (i32.const 7)) (i32.const 0x1fe))))
                (i32.xor
                  (i32.load16_u offset=2560 (i32.and (i32.shr_u (local.get $y) (i32.const 15)) (i32.const 0x1fe)))
                  (i32.load16_u offset=2048 (i32.and (i32.shr_u (local.get $y) (i32.const 23)) (i32.const 0x1fe)))))
              (i32.xor
                (i32.xor
                  (i32.load16_u offset=1536 (i32.and (i32.shl (local.get $z) (i32.const 1)) (i32.const 0x1fe)))
                  (i32.load16_u offset=1024 (i32.and (i32.shr_u (local.get $z) (i32.const 7)) (i32.const 0x1fe))))
                (i32.xor
                  (i32.load16_u offset=512 (i32.and (i32.shr_u (local.get $z) (i32.const 15)) (i32.const 0x1fe)))
                  (i32.load16_u (i32.and (i32.shr_u (local.get $z) (i32.const 23)) (i32.const 0x1fe))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c
          (i32.xor
            (i32.shr_u (local.get $c) (i32.const 8))
            (i32.load16_u
              (i32.shl
                (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $p))) (i32.const 0xff))
                (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (local.get $c))

  ;; One octet at `o`, escaped (7d, b^20) when the table at `tbl` marks it, without a
  ;; branch: always writes b^20 at o+1 (overwritten next when unused). Returns the new o.
  (func $put (param $o i32) (param $b i32) (param $tbl i32) (result i32)
    (local $e i32)
    (local.set $e (i32.load8_u (i32.add (local.get $tbl) (local.get $b))))
    (i32.store8 (local.get $o) (select (i32.const 0x7d) (local.get $b) (local.get $e)))
    (i32.store8 offset=1 (local.get $o) (i32.xor (local.get $b) (i32.const 0x20)))
    (i32.add (i32.add (local.get $o) (i32.const 1)) (local.get $e)))

  ;; Stuffs [p, p+n) into o using escape set `tbl`; returns the new o. Needs 2n + 16 octets
  ;; of room (a block's store may write up to 8 unused octets past its output).
  ;; Per 16 octets: a SIMD test for 7e, 7d and mapped control characters (swizzles of the
  ;; two 16-octet ACCM masks). A clean block is one store. Otherwise each half becomes
  ;; pairs [7d or octet, octet^20] (two shuffles), and a swizzle with the compaction
  ;; pattern for that half's 8-bit escape mask drops the second octet of unescaped pairs.
  (func $stuff (param $p i32) (param $n i32) (param $o i32) (param $tbl i32) (result i32)
    (local $end i32) (local $v v128) (local $m v128) (local $a v128) (local $y v128)
    (local $lo v128) (local $hi v128) (local $bits i32) (local $h i32) (local $b i32) (local $e i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (local.set $lo (v128.load offset=256 (local.get $tbl)))
    (local.set $hi (v128.load offset=272 (local.get $tbl)))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $m
          (v128.or
            (v128.or
              (i8x16.eq (local.get $v) (v128.const i8x16 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e))
              (i8x16.eq (local.get $v) (v128.const i8x16 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d)))
            (v128.or
              (i8x16.swizzle (local.get $lo) (local.get $v))
              (i8x16.swizzle (local.get $hi)
                (i8x16.sub (local.get $v) (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16))))))
        (local.set $bits (i8x16.bitmask (local.get $m)))
        (if (i32.eqz (local.get $bits))
          (then
            (v128.store (local.get $o) (local.get $v))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $blocks)))
        (local.set $a (v128.bitselect (v128.const i8x16 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d) (local.get $v) (local.get $m)))
        (local.set $y (v128.xor (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))
        (local.set $h (i32.and (local.get $bits) (i32.const 0xff)))
        (v128.store (local.get $o)
          (i8x16.swizzle
            (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $a) (local.get $y))
            (v128.load offset=9216 (i32.shl (local.get $h) (i32.const 4)))))
        (local.set $o (i32.add (local.get $o) (i32.add (i32.const 8) (i32.popcnt (local.get $h)))))
        (local.set $h (i32.shr_u (local.get $bits) (i32.const 8)))
        (v128.store (local.get $o)
          (i8x16.swizzle
            (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $a) (local.get $y))
            (v128.load offset=9216 (i32.shl (local.get $h) (i32.const 4)))))
        (local.set $o (i32.add (local.get $o) (i32.add (i32.const 8) (i32.popcnt (local.get $h)))))
        (br $blocks)))
    ;; The last < 16 octets one at a time, branch-free (see $put).
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $p)))
        (local.set $e (i32.load8_u (i32.add (local.get $tbl) (local.get $b))))
        (i32.store8 (local.get $o) (select (i32.const 0x7d) (local.get $b) (local.get $e)))
        (i32.store8 offset=1 (local.get $o) (i32.xor (local.get $b) (i32.const 0x20)))
        (local.set $o (i32.add (i32.add (local.get $o) (i32.const 1)) (local.get $e)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (local.get $o))

  ;; One frame body from the stage [p, p+n) to o: stuffed octets, the complemented FCS
  ;; LSB first (stuffed), the closing flag (RFC 1662 §3.1, §C.2). Returns the new o.
  ;; Needs 2n + 16 octets of room.
  (func (export "frame") (param $p i32) (param $n i32) (param $o i32) (param $tbl i32) (result i32)
    (local $f i32)
    (local.set $f
      (i32.xor (call $fcs (local.get $p) (local.get $n) (i32.const 0xffff)) (i32.const 0xffff)))
    (local.set $o (call $stuff (local.get $p) (local.get $n) (local.get $o) (local.get $tbl)))
    (local.set $o (call $put (local.get $o) (i32.and (local.get $f) (i32.const 0xff)) (local.get $tbl)))
    (local.set $o (call $put (local.get $o) (i32.shr_u (local.get $f) (i32.const 8)) (local.get $tbl)))
    (i32.store8 (local.get $o) (i32.const 0x7e))
    (i32.add (local.get $o) (i32.const 1)))

  ;; Running FCS-16, exported for tests.
  (func (export "fcs") (param $p i32) (param $n i32) (param $c i32) (result i32)
    (call $fcs (local.get $p) (local.get $n) (local.get $c)))

  ;; Removes octet stuffing from [p, p+n) into o, 16 octets per step, while that is simple:
  ;; stops before a flag (7e), before a control character mapped in the receive set (when
  ;; bit 1 of $flags is set), before a block with an escaped 7d (`7d 7d`, left to the host),
  ;; with fewer than 16 input octets left, or when o + 16 would pass $lim. Bit 0 of $flags
  ;; is an escape pending from before p. Every 7d in a simple block is a Control Escape:
  ;; it is dropped and the next octet is XORed with 0x20 (RFC 1662 §4.2). The octets of a
  ;; block before its first flag or mapped control character are taken too.
  ;; Returns (new p) << 1 | escape pending; stores the new o at 13312. Writes up to 24
  ;; octets past o (the output must have that slack before $lim + 8).
  (func (export "unstuff") (param $p i32) (param $n i32) (param $o i32) (param $lim i32) (param $flags i32) (result i32)
    (local $end i32) (local $e i32) (local $ctl i32) (local $v v128) (local $eq v128)
    (local $prev v128) (local $x v128) (local $lo v128) (local $hi v128)
    (local $spec i32) (local $m i32) (local $k i32) (local $h i32) (local $c i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (local.set $e (i32.and (local.get $flags) (i32.const 1)))
    (local.set $ctl (i32.and (local.get $flags) (i32.const 2)))
    (local.set $lo (v128.load offset=8448 (i32.const 0)))
    (local.set $hi (v128.load offset=8464 (i32.const 0)))
    ;; Lane 15 of $prev says whether the octet before the block was a Control Escape.
    (local.set $prev (i8x16.splat (i32.sub (i32.const 0) (local.get $e))))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (br_if $done (i32.gt_u (i32.add (local.get $o) (i32.const 16)) (local.get $lim)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $spec
          (i8x16.bitmask
            (i8x16.eq (local.get $v) (v128.const i8x16 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e 0x7e))))
        (if (local.get $ctl)
          (then
            (local.set $spec
              (i32.or (local.get $spec)
                (i8x16.bitmask
                  (v128.or
                    (i8x16.swizzle (local.get $lo) (local.get $v))
                    (i8x16.swizzle (local.get $hi)
                      (i8x16.sub (local.get $v) (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16)))))))))
        (local.set $eq
          (i8x16.eq (local.get $v) (v128.const i8x16 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d 0x7d)))
        (local.set $m (i8x16.bitmask (local.get $eq)))
        (if (i32.eqz (i32.or (i32.or (local.get $spec) (local.get $m)) (local.get $e)))
          (then
            ;; Plain data: one store.
            (v128.store (local.get $o) (local.get $v))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $prev (local.get $eq))
            (br $blocks)))
        ;; k octets before the first flag or mapped control character (16 if none).
        (local.set $k (i32.ctz (i32.or (local.get $spec) (i32.const 0x10000))))
        (local.set $m (i32.and (local.get $m) (i32.sub (i32.shl (i32.const 1) (local.get $k)) (i32.const 1))))
        ;; An escaped 7d: the host's octet loop decides.
        (br_if $done (i32.and (local.get $m) (i32.or (i32.shl (local.get $m) (i32.const 1)) (local.get $e))))
        (br_if $done (i32.eqz (local.get $k)))
        ;; Octets after an escape, XOR 0x20; then drop the escapes with two swizzles.
        (local.set $x
          (v128.xor (local.get $v)
            (v128.and
              (i8x16.shuffle 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 (local.get $prev) (local.get $eq))
              (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20))))
        (local.set $h (i32.and (local.get $m) (i32.const 0xff)))
        (v128.store (local.get $o)
          (i8x16.swizzle (local.get $x) (v128.load offset=9216 (i32.shl (local.get $h) (i32.const 4)))))
        (local.set $c (select (local.get $k) (i32.const 8) (i32.lt_u (local.get $k) (i32.const 8))))
        (local.set $o (i32.add (local.get $o) (i32.sub (local.get $c) (i32.popcnt (local.get $h)))))
        (local.set $h (i32.shr_u (local.get $m) (i32.const 8)))
        (v128.store (local.get $o)
          (i8x16.swizzle (local.get $x)
            (i8x16.add (v128.load offset=9216 (i32.shl (local.get $h) (i32.const 4)))
              (v128.const i8x16 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8))))
        (local.set $o (i32.add (local.get $o)
          (i32.sub (i32.sub (local.get $k) (local.get $c)) (i32.popcnt (local.get $h)))))
        (local.set $p (i32.add (local.get $p) (local.get $k)))
        (local.set $e (i32.and (i32.shr_u (local.get $m) (i32.sub (local.get $k) (i32.const 1))) (i32.const 1)))
        (local.set $prev (local.get $eq))
        (br_if $blocks (i32.eq (local.get $k) (i32.const 16)))))
    (i32.store offset=13312 (i32.const 0) (local.get $o))
    (i32.or (i32.shl (local.get $p) (i32.const 1)) (local.get $e)))
)
