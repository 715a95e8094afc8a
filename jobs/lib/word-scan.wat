;; word-scan: WordCounts' ASCII scan, probe and insert (word-counts.ts) in WebAssembly.
;;
;; The table lives in this module's memory, laid out by word-counts.ts; the globals say where the
;; slots (four i32s each: head, tail, length, count; length 0 is an empty slot), the key starts
;; (offsets into the arena), the hashes and the arena are. A key's bytes are stored OR 0x20 when
;; ASCII. `head` and `tail` are the key's first and last four bytes as little-endian i32s (a key
;; of 1-3 bytes: its bytes, zero above, in both), so a key of up to 8 bytes is decided by its slot;
;; a longer key has its arena offset in place of its head (see $probe).
;; The scan classifies 16 bytes at a time (SIMD); every region has 16 bytes of slack after it, as
;; the scan and the insert read and write whole i32s and v128s past a key's or a piece's end.
;; Memory is only ever grown by word-counts.ts, between calls.

(module
  (memory (export "memory") 1)
  (global $slots (export "slots") (mut i32) (i32.const 0))
  (global $starts (export "starts") (mut i32) (i32.const 0))
  (global $hashes (export "hashes") (mut i32) (i32.const 0))
  (global $mask (export "mask") (mut i32) (i32.const 0))
  (global $size (export "size") (mut i32) (i32.const 0))
  ;; scan stops for a growth when size exceeds this (word-counts.ts keeps it at 3/4 of the slots).
  (global $limit (export "limit") (mut i32) (i32.const 0))
  (global $arena (export "arena") (mut i32) (i32.const 0))
  (global $arenaUsed (export "arenaUsed") (mut i32) (i32.const 0))
  ;; Arena bytes an insert may use: the arena's length less 4 (an insert stores whole i32s).
  (global $arenaRoom (export "arenaRoom") (mut i32) (i32.const 0))
  ;; Why scan returned: 0 the range is done, 1 a byte >= 0x80 (the slow path from the returned
  ;; position, a word's start or the byte), 2 the table must grow (resume at the returned
  ;; position), 3 the arena is full (rescan from the returned word start).
  (global $stop (export "stop") (mut i32) (i32.const 0))

  ;; The bytes of a key of `len` bytes at `p`, OR `f`, as i32s from `j` on: the i32 at p + j with
  ;; the bytes past the key cleared.
  (func $chunk (param $p i32) (param $j i32) (param $len i32) (param $f i32) (result i32)
    (local $r i32)
    (local.set $r (i32.sub (local.get $len) (local.get $j)))
    (if (result i32) (i32.ge_u (local.get $r) (i32.const 4))
      (then (i32.or (i32.load (i32.add (local.get $p) (local.get $j))) (local.get $f)))
      (else
        (i32.and
          (i32.or (i32.load (i32.add (local.get $p) (local.get $j))) (local.get $f))
          (i32.sub (i32.shl (i32.const 1) (i32.shl (local.get $r) (i32.const 3))) (i32.const 1))))))

  ;; Puts the key of `len` bytes at `p` (each OR `f`) into the empty slot `slot` (at `o`) with
  ;; count 0; returns the slot, or -1 if the arena has no room for it. A key of more than 8 bytes
  ;; has its arena offset in the slot where a shorter one has its head.
  (func $insert (param $o i32) (param $slot i32) (param $p i32) (param $len i32) (param $f i32) (param $head i32) (param $tail i32) (param $h i32) (result i32)
    (local $at i32) (local $j i32) (local $to i32)
    (local.set $at (global.get $arenaUsed))
    (if (i32.gt_u (i32.add (local.get $at) (local.get $len)) (global.get $arenaRoom))
      (then (return (i32.const -1))))
    (local.set $to (i32.add (global.get $arena) (local.get $at)))
    (loop $copy
      (i32.store (i32.add (local.get $to) (local.get $j))
        (i32.or (i32.load (i32.add (local.get $p) (local.get $j))) (local.get $f)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $copy (i32.lt_u (local.get $j) (local.get $len))))
    (global.set $arenaUsed (i32.add (local.get $at) (local.get $len)))
    (i32.store (local.get $o) (if (result i32) (i32.gt_u (local.get $len) (i32.const 8)) (then (local.get $at)) (else (local.get $head))))
    (i32.store offset=4 (local.get $o) (local.get $tail))
    (i32.store offset=8 (local.get $o) (local.get $len))
    (i32.store offset=12 (local.get $o) (i32.const 0))
    (i32.store (i32.add (global.get $starts) (i32.shl (local.get $slot) (i32.const 2))) (local.get $at))
    (i32.store (i32.add (global.get $hashes) (i32.shl (local.get $slot) (i32.const 2))) (local.get $h))
    (global.set $size (i32.add (global.get $size) (i32.const 1)))
    (local.get $slot))

  ;; The slot of the key of `len` bytes at `p` (each OR `f`), inserted with count 0 if new; -1 if
  ;; it is new and the arena has no room for it. (scan inlines this for keys of up to 8 bytes.)
  ;; A longer key's slot holds its tail, length and arena offset: its body, bytes [0, len - 4), is
  ;; hashed and compared with the arena four bytes a step (the last step's bytes past the body
  ;; cleared), one cache line besides the slot's.
  (func $probe (param $p i32) (param $len i32) (param $f i32) (result i32)
    (local $head i32) (local $tail i32) (local $h i32) (local $slot i32) (local $o i32) (local $l i32)
    (local $j i32) (local $e i32) (local $a i32) (local $last i32)
    (if (i32.ge_u (local.get $len) (i32.const 4))
      (then
        (local.set $head (i32.or (i32.load (local.get $p)) (local.get $f)))
        (local.set $tail (i32.or (i32.load (i32.sub (i32.add (local.get $p) (local.get $len)) (i32.const 4))) (local.get $f))))
      (else
        (local.set $head (call $chunk (local.get $p) (i32.const 0) (local.get $len) (local.get $f)))
        (local.set $tail (local.get $head))))
    (local.set $h (local.get $head))
    (if (i32.gt_u (local.get $len) (i32.const 8))
      (then
        ;; Where the body's last, maybe partial, step starts, and the mask of its bytes.
        (local.set $e (i32.sub (local.get $len) (i32.const 4)))
        (local.set $last (i32.and (i32.sub (local.get $e) (i32.const 1)) (i32.const -4)))
        (local.set $l (i32.sub (local.get $e) (local.get $last)))
        (local.set $l (if (result i32) (i32.eq (local.get $l) (i32.const 4))
          (then (i32.const -1))
          (else (i32.sub (i32.shl (i32.const 1) (i32.shl (local.get $l) (i32.const 3))) (i32.const 1)))))
        (local.set $a (i32.const 0x811c9dc5))
        (block $body
          (loop $step
            (br_if $body (i32.ge_u (local.get $j) (local.get $last)))
            (local.set $a
              (i32.rotl
                (i32.mul (i32.xor (local.get $a) (i32.or (i32.load (i32.add (local.get $p) (local.get $j))) (local.get $f))) (i32.const 0x9e3779b1))
                (i32.const 15)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $step)))
        (local.set $h
          (i32.rotl
            (i32.mul
              (i32.xor (local.get $a)
                (i32.and (i32.or (i32.load (i32.add (local.get $p) (local.get $last))) (local.get $f)) (local.get $l)))
              (i32.const 0x9e3779b1))
            (i32.const 15)))))
    (local.set $h
      (i32.xor
        (i32.mul (local.get $h) (i32.const 0x9e3779b1))
        (i32.mul (i32.xor (local.get $tail) (local.get $len)) (i32.const 0x85ebca77))))
    (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))))
    (local.set $h (i32.mul (local.get $h) (i32.const 0xc2b2ae3d)))
    (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))))
    (local.set $slot (i32.and (local.get $h) (global.get $mask)))
    (loop $next
      (local.set $o (i32.add (global.get $slots) (i32.shl (local.get $slot) (i32.const 4))))
      (local.set $e (i32.load offset=8 (local.get $o)))
      (if (i32.and (i32.eq (local.get $e) (local.get $len)) (i32.eq (i32.load offset=4 (local.get $o)) (local.get $tail)))
        (then
          (if (i32.le_u (local.get $len) (i32.const 8))
            (then (if (i32.eq (i32.load (local.get $o)) (local.get $head)) (then (return (local.get $slot))))))
          (if (i32.gt_u (local.get $len) (i32.const 8))
            (then
              (local.set $a (i32.add (global.get $arena) (i32.load (local.get $o))))
              (local.set $j (i32.const 0))
              (block $differ
                (loop $step
                  (if (i32.lt_u (local.get $j) (local.get $last))
                    (then
                      (br_if $differ
                        (i32.ne (i32.or (i32.load (i32.add (local.get $p) (local.get $j))) (local.get $f))
                                (i32.load (i32.add (local.get $a) (local.get $j)))))
                      (local.set $j (i32.add (local.get $j) (i32.const 4)))
                      (br $step))))
                (br_if $differ
                  (i32.and
                    (i32.xor (i32.or (i32.load (i32.add (local.get $p) (local.get $last))) (local.get $f))
                             (i32.load (i32.add (local.get $a) (local.get $last))))
                    (local.get $l)))
                (return (local.get $slot)))))))
      (if (i32.eqz (local.get $e))
        (then (return (call $insert (local.get $o) (local.get $slot) (local.get $p) (local.get $len) (local.get $f) (local.get $head) (local.get $tail) (local.get $h)))))
      (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (global.get $mask)))
      (br $next))
    (unreachable))

  ;; Counts the ASCII words of [i, end), where memory[end] is a byte >= 0x80 (a sentinel), until a
  ;; reason to stop (the global `stop`); returns where to go on. Sixteen bytes a step: `bits` has a
  ;; bit set for each ASCII word byte, `hi` for each byte >= 0x80; a word is a run of set bits,
  ;; found with ctz, which may go on into the next step (`ws`, its start, stays >= 0).
  (func (export "scan") (param $i i32) (param $end i32) (result i32)
    (local $v v128) (local $bits i32) (local $hi i32) (local $lim i32) (local $ws i32) (local $we i32) (local $t i32) (local $e i32)
    (local $len i32) (local $head i32) (local $tail i32) (local $h i32)
    (local $slot i32) (local $o i32) (local $l i32) (local $slots i32) (local $mask i32)
    (local.set $slots (global.get $slots))
    (local.set $mask (global.get $mask))
    (local.set $ws (i32.const -1))
    (loop $step
      (local.set $v (v128.load (local.get $i)))
      (local.set $hi (i8x16.bitmask (local.get $v)))
      (local.set $bits
        (i8x16.bitmask
          (v128.or
            (v128.or
              (i8x16.lt_u (i8x16.sub (v128.or (local.get $v) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32)) (v128.const i8x16 97 97 97 97 97 97 97 97 97 97 97 97 97 97 97 97)) (v128.const i8x16 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26))
              (i8x16.lt_u (i8x16.sub (local.get $v) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48)) (v128.const i8x16 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10)))
            (v128.or
              (i8x16.eq (local.get $v) (v128.const i8x16 95 95 95 95 95 95 95 95 95 95 95 95 95 95 95 95))
              (i8x16.eq (local.get $v) (v128.const i8x16 39 39 39 39 39 39 39 39 39 39 39 39 39 39 39 39))))))
      ;; Runs end at the first byte >= 0x80; there the step ends too (lim), unless it is the sentinel.
      (local.set $lim (i32.const 16))
      (if (local.get $hi)
        (then
          (local.set $t (i32.ctz (local.get $hi)))
          (local.set $bits (i32.and (local.get $bits) (i32.sub (i32.shl (i32.const 1) (local.get $t)) (i32.const 1))))
          (if (i32.lt_u (i32.add (local.get $i) (local.get $t)) (local.get $end))
            (then (local.set $lim (local.get $t))))))
      (block $stepDone
        (loop $words
          (if (i32.lt_s (local.get $ws) (i32.const 0))
            (then
              (br_if $stepDone (i32.eqz (local.get $bits)))
              (local.set $t (i32.ctz (local.get $bits)))
              (local.set $ws (i32.add (local.get $i) (local.get $t))))
            (else (local.set $t (i32.const 0))))
          (local.set $e (i32.add (local.get $t) (i32.ctz (i32.xor (i32.shr_u (local.get $bits) (local.get $t)) (i32.const -1)))))
          (br_if $stepDone (i32.ge_u (local.get $e) (local.get $lim)))
          (local.set $we (i32.add (local.get $i) (local.get $e)))
          (local.set $bits (i32.and (local.get $bits) (i32.shl (i32.const -1) (local.get $e))))
          (local.set $len (i32.sub (local.get $we) (local.get $ws)))
          (block $found
            (if (i32.gt_u (local.get $len) (i32.const 8))
              (then
                (local.set $slot (call $probe (local.get $ws) (local.get $len) (i32.const 0x20202020)))
                (if (i32.lt_s (local.get $slot) (i32.const 0))
                  (then (global.set $stop (i32.const 3)) (return (local.get $ws))))
                (local.set $o (i32.add (local.get $slots) (i32.shl (local.get $slot) (i32.const 4))))
                (br $found)))
            (if (i32.ge_u (local.get $len) (i32.const 4))
              (then
                (local.set $head (i32.or (i32.load (local.get $ws)) (i32.const 0x20202020)))
                (local.set $tail (i32.or (i32.load (i32.sub (local.get $we) (i32.const 4))) (i32.const 0x20202020))))
              (else
                (local.set $head
                  (i32.and
                    (i32.or (i32.load (local.get $ws)) (i32.const 0x20202020))
                    (i32.sub (i32.shl (i32.const 1) (i32.shl (local.get $len) (i32.const 3))) (i32.const 1))))
                (local.set $tail (local.get $head))))
            (local.set $h
              (i32.xor
                (i32.mul (local.get $head) (i32.const 0x9e3779b1))
                (i32.mul (i32.xor (local.get $tail) (local.get $len)) (i32.const 0x85ebca77))))
            (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))))
            (local.set $h (i32.mul (local.get $h) (i32.const 0xc2b2ae3d)))
            (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))))
            (local.set $slot (i32.and (local.get $h) (local.get $mask)))
            (loop $probe
              (local.set $o (i32.add (local.get $slots) (i32.shl (local.get $slot) (i32.const 4))))
              (local.set $l (i32.load offset=8 (local.get $o)))
              (br_if $found
                (i32.and
                  (i32.eq (local.get $l) (local.get $len))
                  (i32.and
                    (i32.eq (i32.load offset=4 (local.get $o)) (local.get $tail))
                    (i32.eq (i32.load (local.get $o)) (local.get $head)))))
              (if (i32.eqz (local.get $l))
                (then
                  (if (i32.lt_s
                        (call $insert (local.get $o) (local.get $slot) (local.get $ws) (local.get $len) (i32.const 0x20202020) (local.get $head) (local.get $tail) (local.get $h))
                        (i32.const 0))
                    (then (global.set $stop (i32.const 3)) (return (local.get $ws))))
                  (br $found)))
              (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (local.get $mask)))
              (br $probe)))
          (i32.store offset=12 (local.get $o) (i32.add (i32.load offset=12 (local.get $o)) (i32.const 1)))
          (if (i32.gt_u (global.get $size) (global.get $limit))
            (then (global.set $stop (i32.const 2)) (return (local.get $we))))
          (local.set $ws (i32.const -1))
          (br $words)))
      (if (i32.eqz (local.get $hi))
        (then (local.set $i (i32.add (local.get $i) (i32.const 16))) (br $step)))
      (if (i32.eq (local.get $lim) (i32.const 16))
        (then (global.set $stop (i32.const 0)) (return (local.get $end))))
      (global.set $stop (i32.const 1))
      (if (i32.ge_s (local.get $ws) (i32.const 0)) (then (return (local.get $ws))))
      (return (i32.add (local.get $i) (local.get $lim))))
    (unreachable))

  ;; The slot of the word of `len` bytes at `p` (any UTF-8, already lower-cased: its ASCII bytes
  ;; are stored OR 0x20 here), inserted with count 0 if new; -1 if the arena has no room for it.
  (func (export "add") (param $p i32) (param $len i32) (result i32)
    (local $j i32) (local $b i32)
    (loop $fold
      (local.set $b (i32.load8_u (i32.add (local.get $p) (local.get $j))))
      (if (i32.lt_u (local.get $b) (i32.const 0x80))
        (then (i32.store8 (i32.add (local.get $p) (local.get $j)) (i32.or (local.get $b) (i32.const 0x20)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $fold (i32.lt_u (local.get $j) (local.get $len))))
    (call $probe (local.get $p) (local.get $len) (i32.const 0))))
