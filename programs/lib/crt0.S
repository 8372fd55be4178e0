/* Start-up code for the user-mode programs (Linux RISC-V ABI, RV32, static).
 *
 * On entry the kernel (or qemu-riscv32) leaves sp pointing at argc, followed by
 * argv[0..argc-1], NULL, envp[...], NULL, auxv. Nothing else is set up; gp is
 * ours to load (__global_pointer$ from the linker script). We call
 * main(argc, argv, envp) and pass its return value to exit_group (94).
 */
    .file "crt0.S"
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    lw      a0, 0(sp)           /* argc */
    addi    a1, sp, 4           /* argv */
    slli    a2, a0, 2
    add     a2, a2, a1
    addi    a2, a2, 4           /* envp = argv + argc + 1 */
    andi    sp, sp, -16         /* psABI: 16-byte aligned stack */
    call    main
    li      a7, 94              /* exit_group(main's return value) */
    ecall
1:  j       1b                  /* not reached */
    .size _start, . - _start
