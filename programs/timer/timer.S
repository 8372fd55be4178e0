/* timer: bare metal on the virt board. Arms the CLINT's mtimecmp 100,000 ticks
 * ahead (10 ms at QEMU's 10 MHz timebase), enables MTIE and MIE and waits in
 * wfi; the machine timer interrupt prints a line over the UART and passes
 * through the test finisher. Any other trap fails with code 1. */
    .equ CLINT_MTIMECMP, 0x2004000
    .equ CLINT_MTIME, 0x200bff8
    .equ FINISHER, 0x100000
    .equ UART, 0x10000000
    .equ TICKS, 100000

    .file "timer.S"
    .section .text.start, "ax", @progbits
    .globl _start
_start:
    la      t0, trap
    csrw    mtvec, t0
    li      t0, CLINT_MTIME
    lw      t1, 0(t0)
    li      t2, TICKS
    add     t1, t1, t2
    li      t0, CLINT_MTIMECMP
    li      t3, -1
    sw      t3, 4(t0)               /* high word first: no early match */
    sw      t1, 0(t0)
    sw      zero, 4(t0)
    li      t0, 0x80                /* mie.MTIE */
    csrs    mie, t0
    csrsi   mstatus, 8              /* mstatus.MIE */
1:  wfi
    j       1b

    .balign 4
trap:
    csrr    t0, mcause
    li      t1, 0x80000007          /* machine timer interrupt */
    bne     t0, t1, fail
    la      a0, message
    li      a1, UART
2:  lbu     t2, 0(a0)
    beqz    t2, 3f
    sb      t2, 0(a1)
    addi    a0, a0, 1
    j       2b
3:  li      t0, FINISHER
    li      t1, 0x5555
    sw      t1, 0(t0)
4:  j       4b
fail:
    li      t0, FINISHER
    li      t1, 0x13333
    sw      t1, 0(t0)
    j       4b

message:
    .asciz "timer: machine timer interrupt taken\n"
