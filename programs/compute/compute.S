/* compute: a bare-metal compute loop for the speed figures (benches/README.md).
 * M-mode maps RAM (0x8000_0000) and the low 4 MiB (the test finisher) with two
 * identity megapages, turns Sv32 on and enters S-mode, which runs a loop of
 * 2,000,000 iterations of five instructions: a load, an add, a store, a count
 * and a branch, so after the first walks every fetch and data access hits the
 * TLBs. Then it writes the finisher's pass code. Bare metal on the project's
 * virt board (configs/rv32-virt.ron); not meant for QEMU (it sets no PMP). */
    .equ ITERATIONS, 2000000
    .equ FINISHER, 0x100000
    .equ PTE_VRWXAD, 0xcf

    .file "compute.S"
    .section .text.start, "ax", @progbits
    .globl _start
_start:
    la      t0, root
    li      t1, (0x80000000 >> 2) | PTE_VRWXAD   /* root[0x200]: RAM, 4 MiB */
    li      t2, 0x200 * 4
    add     t2, t0, t2
    sw      t1, 0(t2)
    li      t1, PTE_VRWXAD                       /* root[0]: the finisher */
    sw      t1, 0(t0)
    srli    t0, t0, 12
    li      t1, 0x80000000                       /* satp.MODE = Sv32 */
    or      t0, t0, t1
    csrw    satp, t0
    sfence.vma
    la      t0, s_main
    csrw    mepc, t0
    li      t0, 0x800                            /* mstatus.MPP = S */
    csrs    mstatus, t0
    mret

s_main:
    li      a0, ITERATIONS
    la      a1, data
1:  lw      t1, 0(a1)
    add     t2, t2, t1
    sw      t2, 4(a1)
    addi    a0, a0, -1
    bnez    a0, 1b
    li      t0, FINISHER
    li      t1, 0x5555
    sw      t1, 0(t0)
2:  j       2b

    .data
    .balign 8
data:
    .word 3, 0

    .bss
    .balign 4096
root:
    .space 4096
