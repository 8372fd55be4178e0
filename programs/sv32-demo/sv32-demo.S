/*
 * sv32-demo: bare-metal Sv32 checks for qemu-system-riscv32 -M virt -bios none.
 *
 * The M-mode driver builds Sv32 page tables, then runs a table of tests. Each
 * test enters S-mode with mret (and, for user tests, U-mode from there with
 * sret), performs one load, store or instruction fetch through a virtual
 * address, and comes back to M-mode either with an ecall (the access worked;
 * a0 holds the value) or with a trap (mcause/mtval/mepc). Some page faults are
 * delegated to S-mode with medeleg; the S-mode handler then reports
 * scause/stval/sepc to M-mode with an ecall. M-mode runs untranslated and
 * prints one line per test over the NS16550A UART, then the page-table
 * entries (showing the A/D bits set by the hardware), and exits through the
 * SiFive test finisher.
 *
 * Spec references are to the RISC-V privileged specification, version
 * 20211203: "4.3.2 step N" is the Sv32 virtual-address translation process.
 *
 * Registers across a test: the lower-mode code only touches a0, a1, a2, a7,
 * ra and t0; the driver keeps its state in s-registers and sp.
 */

    .equ UART,        0x10000000        /* NS16550A: THR at +0, LSR at +5 */
    .equ FINISHER,    0x00100000        /* SiFive test: 0x5555 pass, (c<<16)|0x3333 fail */

    /* Physical layout (link.ld): code at 0x8000_0000, the shared code page
     * at 0x8000_2000, the rest built at run time. */
    .equ UPAGE,       0x80002000
    .equ ROOT,        0x80003000        /* Sv32 root table (level 1) */
    .equ L0,          0x80004000        /* level-0 table for VA 0x0000_0000-0x003f_ffff */
    .equ DATA_A,      0x80005000
    .equ DATA_B,      0x80006000
    .equ DATA_C,      0x80007000
    .equ STACK_TOP,   0x80009000        /* stack page 0x8000_8000 */
    .equ ZERO_FROM,   ROOT
    .equ ZERO_TO,     STACK_TOP

    .equ USER_VA,     0x00010000        /* UPAGE as user code (U, R, X) */

    /* PTE bits (4.3.1, Figure 4.18) */
    .equ V, 0x01
    .equ R, 0x02
    .equ W, 0x04
    .equ X, 0x08
    .equ U, 0x10
    .equ G, 0x20
    .equ A, 0x40
    .equ D, 0x80
    /* PTE whose PPN is physical address pa (pa may exceed 32 bits) */
    #define PTE(pa, flags) ((((pa) >> 12) << 10) | (flags))

    .equ MSTATUS_MPP, 0x1800
    .equ MPP_S,       0x0800
    .equ SUM,         0x40000           /* 3.1.6.3: S-mode may access U pages */
    .equ MXR,         0x80000           /* 3.1.6.3: loads from X-only pages */
    .equ SSTATUS_SPP, 0x100

    /* medeleg bits (3.1.8) */
    .equ DELEG_LPF,   (1 << 13)         /* load page fault */
    .equ DELEG_SPF,   (1 << 15)         /* store/AMO page fault */

    /* a7 values reported by the lower-mode code with its ecall */
    .equ REP_VALUE,   0                 /* a0 = value loaded / returned */
    .equ REP_DELEG,   1                 /* a0 = scause, a1 = stval, a2 = sepc */
    .equ REP_STORED,  2                 /* the store completed */

    .equ MODE_U, 0
    .equ MODE_S, 1

/* ------------------------------------------------------------------------ */
    .file "sv32-demo.S"
    .section .text.start, "ax", @progbits
    .globl _start
_start:
    li      sp, STACK_TOP
    csrw    mie, zero
    csrw    mideleg, zero
    csrw    medeleg, zero
    /* 3.7 PMP: with no matching entry S/U accesses fail, so grant
     * everything with one NAPOT entry (pmpaddr0 all ones, cfg NAPOT|RWX).
     * A hart without PMP raises illegal instruction for these CSRs: the
     * writes run with mtvec at 1: below, so a trap skips them (as the
     * riscv-tests' environment does). */
    la      t0, 1f
    csrw    mtvec, t0
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, 0x1f
    csrw    pmpcfg0, t0
    .balign 4
1:  la      t0, m_trap
    csrw    mtvec, t0                   /* direct mode: m_trap is 4-aligned */

    /* Clear the page tables, data pages and stack. */
    li      t0, ZERO_FROM
    li      t1, ZERO_TO
1:  sw      zero, 0(t0)
    addi    t0, t0, 4
    bltu    t0, t1, 1b

    /* Initial page-table entries and data words: (address, value) pairs. */
    la      t0, init_words
    la      t1, init_words_end
1:  lw      t2, 0(t0)
    lw      t3, 4(t0)
    sw      t3, 0(t2)
    addi    t0, t0, 8
    bltu    t0, t1, 1b

    la      t0, s_trap
    csrw    stvec, t0
    /* satp: MODE=1 (Sv32), ASID=0, PPN=root (4.1.11) */
    li      t0, (1 << 31) | (ROOT >> 12)
    csrw    satp, t0
    sfence.vma zero, zero

    la      a0, s_banner
    call    puts

/* ---- the driver ---- */
    la      s0, tests
next_test:
    lw      a0, 0(s0)                   /* name; 0 ends the table */
    beqz    a0, tests_done
    call    puts
    /* Optional PTE update before the test, followed by sfence.vma for that
     * address (4.2.1: a PTE change is only guaranteed visible to later
     * translations after an SFENCE.VMA covering it). */
    lw      t0, 28(s0)
    beqz    t0, 1f
    lw      t1, 32(s0)
    sw      t1, 0(t0)
    lw      t2, 12(s0)
    sfence.vma t2, zero
1:  mv      a0, s0
    call    run_test
    mv      s1, a0                      /* mcause */
    mv      s2, a1                      /* mtval */
    mv      s3, a2                      /* mepc */
    mv      s4, a3                      /* lower-mode a0 */
    mv      s5, a4                      /* lower-mode a1 */
    mv      s6, a5                      /* lower-mode a2 */
    mv      s7, a6                      /* lower-mode a7 */
    li      t0, 8                       /* environment call from U-mode */
    beq     s1, t0, got_ecall
    li      t0, 9                       /* environment call from S-mode */
    beq     s1, t0, got_ecall
    /* A trap taken by M-mode: print mcause, mtval, mepc. */
    la      a0, s_mcause
    call    puts
    mv      a0, s1
    call    puthex
    la      a0, s_mtval
    call    puts
    mv      a0, s2
    call    puthex
    la      a0, s_mepc
    call    puts
    mv      a0, s3
    call    puthex
    j       end_line
got_ecall:
    li      t0, REP_DELEG
    beq     s7, t0, got_deleg
    li      t0, REP_STORED
    beq     s7, t0, got_stored
    la      a0, s_arrow                 /* " -> " value */
    call    puts
    mv      a0, s4
    call    puthex
    j       ecall_mode
got_stored:
    la      a0, s_stored
    call    puts
ecall_mode:
    la      a0, s_fromU
    li      t0, 8
    beq     s1, t0, 1f
    la      a0, s_fromS
1:  call    puts
    j       end_line
got_deleg:
    la      a0, s_scause
    call    puts
    mv      a0, s4
    call    puthex
    la      a0, s_stval
    call    puts
    mv      a0, s5
    call    puthex
    la      a0, s_sepc
    call    puts
    mv      a0, s6
    call    puthex
end_line:
    li      a0, 10                      /* newline */
    call    putc
    addi    s0, s0, 36
    j       next_test

tests_done:
    /* Dump the PTEs: A (0x40) and D (0x80) show what the hardware set. */
    la      a0, s_ptes
    call    puts
    la      s0, pte_list
1:  lw      a0, 0(s0)
    beqz    a0, 2f
    call    puts
    la      a0, s_eq
    call    puts
    lw      t0, 4(s0)
    lw      a0, 0(t0)
    call    puthex
    li      a0, 10                      /* newline */
    call    putc
    addi    s0, s0, 8
    j       1b
2:  la      a0, s_done
    call    puts
    li      t0, FINISHER
    li      t1, 0x5555                  /* pass */
    sw      t1, 0(t0)
3:  wfi
    j       3b

/*
 * run_test(a0 = test entry): enter the lower mode and perform the access.
 * Returns (through m_trap) a0 = mcause, a1 = mtval, a2 = mepc and a3..a6 =
 * the lower mode's a0, a1, a2, a7.
 */
run_test:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      t0, MSTATUS_MPP | SUM | MXR
    csrc    mstatus, t0
    li      t0, MPP_S                   /* mret goes to S-mode (3.3.2) */
    csrs    mstatus, t0
    lw      t0, 20(a0)                  /* SUM / MXR for this test */
    csrs    mstatus, t0
    lw      t0, 24(a0)
    csrw    medeleg, t0
    lw      t1, 4(a0)                   /* stub */
    lw      t2, 8(a0)                   /* mode */
    csrw    mepc, t1
    li      t0, MODE_S
    beq     t2, t0, 1f
    mv      a2, t1                      /* user stub: S-mode srets to it */
    la      t1, s_enter_u
    csrw    mepc, t1
1:  lw      a1, 16(a0)                  /* value to store */
    lw      a0, 12(a0)                  /* virtual address */
    mret

    .balign 4
m_trap:
    csrr    t0, mstatus
    li      t1, MSTATUS_MPP
    and     t0, t0, t1
    beq     t0, t1, m_panic             /* a trap from M-mode is a bug */
    mv      a3, a0
    mv      a4, a1
    mv      a5, a2
    mv      a6, a7
    csrr    a0, mcause
    csrr    a1, mtval
    csrr    a2, mepc
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

m_panic:
    csrr    s1, mcause
    la      a0, s_panic
    call    puts
    mv      a0, s1
    call    puthex
    li      a0, 10                      /* newline */
    call    putc
    li      t0, FINISHER
    li      t1, (1 << 16) | 0x3333      /* fail, code 1 */
    sw      t1, 0(t0)
1:  j       1b

/* ---- UART output (M-mode, physical addresses) ---- */
putc:                                   /* a0 = byte */
    li      t0, UART
1:  lbu     t1, 5(t0)                   /* LSR */
    andi    t1, t1, 0x20                /* THR empty */
    beqz    t1, 1b
    sb      a0, 0(t0)
    ret

puts:                                   /* a0 = NUL-terminated string */
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s8, 8(sp)
    mv      s8, a0
1:  lbu     a0, 0(s8)
    beqz    a0, 2f
    call    putc
    addi    s8, s8, 1
    j       1b
2:  lw      s8, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

puthex:                                 /* a0 = word: "0x" + 8 lowercase digits */
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s8, 8(sp)
    sw      s9, 4(sp)
    mv      s8, a0
    li      a0, 48                      /* '0' */
    call    putc
    li      a0, 120                     /* 'x' */
    call    putc
    li      s9, 28
1:  srl     a0, s8, s9
    andi    a0, a0, 15
    la      t0, hexdigits
    add     t0, t0, a0
    lbu     a0, 0(t0)
    call    putc
    addi    s9, s9, -4
    bgez    s9, 1b
    lw      s9, 4(sp)
    lw      s8, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

/* ---- S-mode code (runs at VA = PA through the identity megapage) ---- */
    .balign 4
s_lw:                                   /* load a word from a0 */
    lw      a0, 0(a0)
    li      a7, REP_VALUE
    ecall
s_sw:                                   /* store a1 to a0 */
    sw      a1, 0(a0)
    li      a7, REP_STORED
    ecall
s_jalr:                                 /* fetch: jump to a0 */
    jalr    ra, 0(a0)
s_enter_u:                              /* sret to U-mode at a2 (4.1.1: SPP=0) */
    csrw    sepc, a2
    li      t0, SSTATUS_SPP
    csrc    sstatus, t0
    sret
    .balign 4
s_trap:                                 /* delegated trap: report to M-mode */
    csrr    a0, scause
    csrr    a1, stval
    csrr    a2, sepc
    li      a7, REP_DELEG
    ecall

/* ------------------------------------------------------------------------ */
/* The shared code page (physical 0x8000_2000). Fixed 32-bit encodings so
 * that the words loaded through MXR are known. */
    .section .upage, "ax", @progbits
    .option push
    .option norvc
upage_start:
    .org    0x00                        /* user stubs: VA USER_VA + offset */
u_lw:
    lw      a0, 0(a0)
    li      a7, REP_VALUE
    ecall
    .org    0x10
u_sw:
    sw      a1, 0(a0)
    li      a7, REP_STORED
    ecall
    .org    0x20
u_jalr:
    jalr    ra, 0(a0)

    .org    0x100
fetch_target:                           /* the code fetched by the fetch tests */
    lui     a0, 0x600df                 /* word 0x600df537 (loaded via MXR) */
    addi    a0, a0, 0x00d               /* a0 = 0x600df00d */
    li      a7, REP_VALUE
    ecall

    /* The last halfword of the page is the first half of a 32-bit
     * instruction (addi a0, a0, 1 = 0x00150513): fetching it needs the next
     * page too. */
    .org    0xffe
straddle:
    .2byte  0x0513
    .option pop

    .equ FT, 0x100                      /* fetch_target's offset in the page */
    .equ U_LW,   USER_VA + 0x00         /* the .org offsets above */
    .equ U_SW,   USER_VA + 0x10
    .equ U_JALR, USER_VA + 0x20

/* ------------------------------------------------------------------------ */
    .section .rodata, "a", @progbits
    .balign 4
/* (address, value) words written at start-up. */
init_words:
    /* Root table: one pointer and three 4 MiB megapage leaves. */
    .word ROOT + 4*0x000, PTE(L0, V)                      /* VA 0x0000_0000: -> L0 */
    .word ROOT + 4*0x001, PTE(0x80001000, V|R|W)          /* VA 0x0040_0000: misaligned megapage (PPN[0]=1), A=D=0 */
    .word ROOT + 4*0x002, PTE(0x200000000 + L0, V)        /* VA 0x0080_0000: -> PA 0x2_8000_4000, vacant */
    .word ROOT + 4*0x003, PTE(0x90000000, V)              /* VA 0x00c0_0000: -> PA 0x9000_0000, vacant */
    .word ROOT + 4*0x200, PTE(0x80000000, V|R|W|X|A|D)    /* VA 0x8000_0000: identity megapage (code, S) */
    .word ROOT + 4*0x300, PTE(0x80000000, V|R|W)          /* VA 0xc000_0000: alias megapage, A=D=0 */
    /* Level-0 table: 4 KiB leaves for VA 0x0000_1000 ... */
    .word L0 + 4*1,  PTE(DATA_A, V|R|W)                   /* 0x1000: S RW, A=D=0 */
    .word L0 + 4*2,  PTE(DATA_B, V|R|A)                   /* 0x2000: S read-only */
    .word L0 + 4*3,  PTE(DATA_C, V|R|W|U)                 /* 0x3000: U RW, A=D=0 */
    /*    L0 + 4*4   0                                       0x4000: not present (V=0) */
    .word L0 + 4*5,  PTE(UPAGE, V|X)                      /* 0x5000: S execute-only, A=0 */
    .word L0 + 4*6,  PTE(UPAGE, V|X|U)                    /* 0x6000: U execute-only, A=0 */
    .word L0 + 4*7,  PTE(UPAGE, V|R|W)                    /* 0x7000: S RW, not executable, A=D=0 */
    .word L0 + 4*8,  PTE(DATA_A, V|W)                     /* 0x8000: W without R (reserved), A=D=0 */
    .word L0 + 4*9,  PTE(0x90000000, V|R|W|X|A|D)         /* 0x9000: PA 0x9000_0000, vacant (RAM ends at 0x8800_0000) */
    .word L0 + 4*10, PTE(0x200000000 + DATA_A, V|R|W|A|D) /* 0xa000: PA 0x2_8000_5000, above 4 GiB, vacant */
    .word L0 + 4*11, PTE(L0, V)                           /* 0xb000: pointer at level 0 */
    .word L0 + 4*16, PTE(UPAGE, V|R|X|U|A)                /* 0x1_0000: user code */
    /*    L0 + 4*17  0                                       0x1_1000: not present */
    /* Data words. */
    .word DATA_A + 0, 0x11111111
    .word DATA_A + 4, 0x11111114
    .word DATA_B + 0, 0x22222222
    .word DATA_C + 0, 0x33333333
init_words_end:

/* Test table: name, stub, mode, va, store value, mstatus bits, medeleg,
 * PTE address to update first (0: none), new PTE value. 36 bytes each. */
    .macro T name, stub, mode, va, val=0, mst=0, deleg=0, pteaddr=0, pteval=0
    .word \name, \stub, \mode, \va, \val, \mst, \deleg, \pteaddr, \pteval
    .endm
tests:
    /* 4.3.2 steps 1-8 for a valid 4 KiB leaf. The first access misses in any
     * TLB; step 7: A=0, so the hardware sets A. (Step 7 also allows a page
     * fault instead; the expected output assumes hardware A/D updates, as
     * QEMU does.) */
    T n01, s_lw, MODE_S, 0x00001000
    /* Same translation again: a TLB hit, same result. */
    T n02, s_lw, MODE_S, 0x00001000
    /* Step 7: a store with D=0 sets D (and A). */
    T n03, s_sw, MODE_S, 0x00001008, 0xa5a5a5a5
    T n04, s_lw, MODE_S, 0x00001008
    /* Megapage leaf at level 1 (step 4 stops at i=1; step 8 keeps VPN[0]). */
    T n05, s_lw, MODE_S, 0x80005008
    /* Alias megapage with A=D=0: store sets A and D; visible via 0x1004. */
    T n06, s_sw, MODE_S, 0xc0005004, 0x5eed5eed
    T n07, s_lw, MODE_S, 0x00001004
    /* Read-only page: load works, store faults (step 5: W=0; cause 15). */
    T n08, s_lw, MODE_S, 0x00002000
    T n09, s_sw, MODE_S, 0x00002000, 0x12345678
    /* Make it writable (D=0), sfence.vma: the store now works (4.2.1). */
    T n10, s_sw, MODE_S, 0x00002000, 0x12345678, 0, 0, L0 + 4*2, PTE(DATA_B, V|R|W|A)
    T n11, s_lw, MODE_S, 0x00002000
    /* Not present (step 3: V=0): load page fault, cause 13, in M-mode ... */
    T n12, s_lw, MODE_S, 0x00004000
    /* ... and delegated to S-mode with medeleg[13] (3.1.8). */
    T n13, s_lw, MODE_S, 0x00004000, 0, 0, DELEG_LPF
    /* Map it (A=D=0), sfence.vma: the load now works. */
    T n14, s_lw, MODE_S, 0x00004000, 0, 0, 0, L0 + 4*4, PTE(DATA_B, V|R|W)
    /* S-mode load from a U page: faults unless SUM=1 (4.3.1, 3.1.6.3). */
    T n15, s_lw, MODE_S, 0x00003000
    T n16, s_lw, MODE_S, 0x00003000, 0, SUM
    T n17, s_sw, MODE_S, 0x00003004, 0x0badcafe, SUM
    /* S-mode never executes from a U page, even with SUM=1 (cause 12). */
    T n18, s_jalr, MODE_S, USER_VA + FT, 0, SUM
    /* Execute-only page: a load faults unless MXR=1 (3.1.6.3). */
    T n19, s_lw, MODE_S, 0x00005000 + FT
    T n20, s_lw, MODE_S, 0x00005000 + FT, 0, MXR
    /* Fetch from the execute-only page works (ecall from S). */
    T n21, s_jalr, MODE_S, 0x00005000 + FT
    /* Fetch from a page without X: instruction page fault, mtval = mepc = VA. */
    T n22, s_jalr, MODE_S, 0x00007000 + FT
    /* Step 3: W=1 with R=0 is reserved: page fault. */
    T n23, s_lw, MODE_S, 0x00008000
    /* Step 4: a pointer PTE at level 0 (i < 0): page fault. */
    T n24, s_lw, MODE_S, 0x0000b000
    /* Step 6: misaligned megapage: page fault. */
    T n25, s_lw, MODE_S, 0x00400000
    /* Valid translation to a vacant physical address (3.6: access fault):
     * load (cause 5), store (cause 7), fetch (cause 1); mtval = VA. */
    T n26, s_lw, MODE_S, 0x00009000
    T n27, s_sw, MODE_S, 0x00009000, 0xdeadbeef
    T n28, s_jalr, MODE_S, 0x00009000
    /* Sv32 physical addresses are 34 bits (4.3.1): PA 0x2_8000_5000 is
     * vacant (access fault), not an alias of 0x8000_5000. QEMU 7.2 differs:
     * it truncates the leaf's physical address to 32 bits and loads
     * 0x11111111 from 0x8000_5000 (see README.md). */
    T n29, s_lw, MODE_S, 0x0000a000
    /* 4.3.2 step 2: reading the PTE itself from a vacant address is an
     * access fault (cause 5 for a load), not a page fault. QEMU 7.2 differs:
     * it raises a page fault (cause 13) when the PTE read fails. */
    T n30, s_lw, MODE_S, 0x00c00000
    /* The same with the level-0 table at PA 0x2_8000_4000: vacant, access
     * fault (it is not the level-0 table at 0x8000_4000). QEMU 7.2 does not
     * truncate this PTE address, but again raises a page fault. */
    T n31, s_lw, MODE_S, 0x00801000
    /* U-mode (entered with sret) on its own page, A=D=0. */
    T n32, U_LW, MODE_U, 0x00003000
    T n33, U_SW, MODE_U, 0x00003008, 0xc0ffee00
    T n34, U_LW, MODE_U, 0x00003008
    /* U-mode access to an S page faults, and SUM changes nothing (4.3.1). */
    T n35, U_LW, MODE_U, 0x00001000
    T n36, U_LW, MODE_U, 0x00001000, 0, SUM
    /* The store page fault delegated to S-mode (medeleg[15]). */
    T n37, U_SW, MODE_U, 0x00001000, 0x99999999, 0, DELEG_SPF
    /* U execute-only page: load faults unless MXR=1; fetch works. */
    T n38, U_LW, MODE_U, 0x00006000 + FT
    T n39, U_LW, MODE_U, 0x00006000 + FT, 0, MXR
    T n40, U_JALR, MODE_U, 0x00006000 + FT
    /* U-mode fetch from an S page (U=0): instruction page fault. */
    T n41, U_JALR, MODE_U, 0x00005000 + FT
    /* A 32-bit instruction at 0x1_0ffe whose second half is on a page that
     * is not present: mepc = 0x1_0ffe, mtval = 0x1_1000 (3.1.16: mtval is
     * the address of the portion of the instruction that faulted). */
    T n42, U_JALR, MODE_U, USER_VA + 0xffe
    .word 0

/* PTEs printed at the end. */
pte_list:
    .word p00, ROOT + 4*0x000
    .word p01, ROOT + 4*0x001
    .word p17, ROOT + 4*0x002
    .word p18, ROOT + 4*0x003
    .word p02, ROOT + 4*0x200
    .word p03, ROOT + 4*0x300
    .word p04, L0 + 4*1
    .word p05, L0 + 4*2
    .word p06, L0 + 4*3
    .word p07, L0 + 4*4
    .word p08, L0 + 4*5
    .word p09, L0 + 4*6
    .word p10, L0 + 4*7
    .word p11, L0 + 4*8
    .word p12, L0 + 4*9
    .word p13, L0 + 4*10
    .word p14, L0 + 4*11
    .word p15, L0 + 4*16
    .word p16, L0 + 4*17
    .word 0

hexdigits: .ascii "0123456789abcdef"
s_banner:  .asciz "sv32-demo: Sv32 checks (M-mode driver; accesses from S and U)\n"
s_mcause:  .asciz " -> mcause="
s_mtval:   .asciz " mtval="
s_mepc:    .asciz " mepc="
s_scause:  .asciz " -> delegated: scause="
s_stval:   .asciz " stval="
s_sepc:    .asciz " sepc="
s_arrow:   .asciz " -> "
s_stored:  .asciz " -> stored"
s_fromS:   .asciz " (ecall from S)"
s_fromU:   .asciz " (ecall from U)"
s_ptes:    .asciz "page-table entries after the tests:\n"
s_eq:      .asciz " = "
s_done:    .asciz "sv32-demo: done\n"
s_panic:   .asciz "sv32-demo: unexpected trap from M-mode, mcause="

n01: .asciz "01 S lw 0x00001000 4K page, A=0 (TLB miss)"
n02: .asciz "02 S lw 0x00001000 again (TLB hit)"
n03: .asciz "03 S sw 0x00001008 <- 0xa5a5a5a5, D=0"
n04: .asciz "04 S lw 0x00001008"
n05: .asciz "05 S lw 0x80005008 identity megapage"
n06: .asciz "06 S sw 0xc0005004 <- 0x5eed5eed alias megapage, A=D=0"
n07: .asciz "07 S lw 0x00001004 same word through the 4K page"
n08: .asciz "08 S lw 0x00002000 read-only page"
n09: .asciz "09 S sw 0x00002000 read-only page"
n10: .asciz "10 S sw 0x00002000 <- 0x12345678 after PTE made writable + sfence.vma"
n11: .asciz "11 S lw 0x00002000"
n12: .asciz "12 S lw 0x00004000 not present"
n13: .asciz "13 S lw 0x00004000 not present, medeleg[13]"
n14: .asciz "14 S lw 0x00004000 after PTE set + sfence.vma"
n15: .asciz "15 S lw 0x00003000 U page, SUM=0"
n16: .asciz "16 S lw 0x00003000 U page, SUM=1"
n17: .asciz "17 S sw 0x00003004 <- 0x0badcafe U page, SUM=1"
n18: .asciz "18 S fetch 0x00010100 U page, SUM=1"
n19: .asciz "19 S lw 0x00005100 execute-only page, MXR=0"
n20: .asciz "20 S lw 0x00005100 execute-only page, MXR=1"
n21: .asciz "21 S fetch 0x00005100 execute-only page"
n22: .asciz "22 S fetch 0x00007100 page without X"
n23: .asciz "23 S lw 0x00008000 PTE W=1 R=0 (reserved)"
n24: .asciz "24 S lw 0x0000b000 pointer PTE at level 0"
n25: .asciz "25 S lw 0x00400000 misaligned megapage"
n26: .asciz "26 S lw 0x00009000 to PA 0x90000000 (vacant)"
n27: .asciz "27 S sw 0x00009000 to PA 0x90000000 (vacant)"
n28: .asciz "28 S fetch 0x00009000 to PA 0x90000000 (vacant)"
n29: .asciz "29 S lw 0x0000a000 to PA 0x280005000 (above 4 GiB, vacant)"
n30: .asciz "30 S lw 0x00c00000 level-0 table at PA 0x90000000 (vacant)"
n31: .asciz "31 S lw 0x00801000 level-0 table at PA 0x280004000 (above 4 GiB, vacant)"
n32: .asciz "32 U lw 0x00003000 U page, A=0"
n33: .asciz "33 U sw 0x00003008 <- 0xc0ffee00 U page, D=0"
n34: .asciz "34 U lw 0x00003008"
n35: .asciz "35 U lw 0x00001000 S page, SUM=0"
n36: .asciz "36 U lw 0x00001000 S page, SUM=1"
n37: .asciz "37 U sw 0x00001000 S page, medeleg[15]"
n38: .asciz "38 U lw 0x00006100 U execute-only page, MXR=0"
n39: .asciz "39 U lw 0x00006100 U execute-only page, MXR=1"
n40: .asciz "40 U fetch 0x00006100 U execute-only page"
n41: .asciz "41 U fetch 0x00005100 S page"
n42: .asciz "42 U fetch 0x00010ffe 32-bit instruction crossing into a page not present"

p00: .asciz "root[0x000] va 0x00000000 pointer to L0     "
p01: .asciz "root[0x001] va 0x00400000 misaligned mega   "
p17: .asciz "root[0x002] va 0x00800000 pointer, >4 GiB   "
p18: .asciz "root[0x003] va 0x00c00000 pointer, vacant   "
p02: .asciz "root[0x200] va 0x80000000 identity mega     "
p03: .asciz "root[0x300] va 0xc0000000 alias mega A=D=0  "
p04: .asciz "L0[0x01]    va 0x00001000 S RW A=D=0        "
p05: .asciz "L0[0x02]    va 0x00002000 S RO, then RW D=0 "
p06: .asciz "L0[0x03]    va 0x00003000 U RW A=D=0        "
p07: .asciz "L0[0x04]    va 0x00004000 absent, then RW   "
p08: .asciz "L0[0x05]    va 0x00005000 S X-only          "
p09: .asciz "L0[0x06]    va 0x00006000 U X-only          "
p10: .asciz "L0[0x07]    va 0x00007000 S RW no X         "
p11: .asciz "L0[0x08]    va 0x00008000 W without R       "
p12: .asciz "L0[0x09]    va 0x00009000 PA 0x90000000     "
p13: .asciz "L0[0x0a]    va 0x0000a000 PA 0x280005000    "
p14: .asciz "L0[0x0b]    va 0x0000b000 pointer at level 0"
p15: .asciz "L0[0x10]    va 0x00010000 user code         "
p16: .asciz "L0[0x11]    va 0x00011000 absent            "
