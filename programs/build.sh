#!/bin/sh
# Rebuilds every ELF under programs/ from source with Debian's
# riscv64-unknown-elf-gcc (apt-get install gcc-riscv64-unknown-elf).
# No newlib, no libgcc: own start-up code and linker scripts. The output is
# deterministic (no debug info, no build id, no paths or timestamps).
# Usage: programs/build.sh            (from anywhere)
set -eu
cd "$(dirname "$0")"

CC=${CC:-riscv64-unknown-elf-gcc}
ARCH="-march=rv32imac_zicsr_zifencei -mabi=ilp32"
CFLAGS="$ARCH -Os -static -nostdlib -nostartfiles -ffreestanding -fno-builtin \
 -fno-tree-loop-distribute-patterns -fno-pic -fno-pie -fno-ident \
 -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-stack-protector \
 -Wall -Wextra -Werror"
LDFLAGS="-no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
 -Wl,--no-warn-rwx-segments"

user() { # user NAME OUT SRC...
    name=$1; out=$2; shift 2
    $CC $CFLAGS $LDFLAGS -Ilib -T lib/user.ld -o "$out" lib/crt0.S lib/sys.c "$@"
    echo "built $out"
}

user hello hello/hello.elf hello/hello.c
user swapper swapper/swapper.elf swapper/swapper.c
user exit-code exit-code/exit-code.elf exit-code/exit-code.c
user illegal bad/illegal.elf bad/illegal.c
user loop bad/loop.elf bad/loop.c

# Bare-metal Sv32 demo for qemu-system-riscv32 -M virt -bios none.
$CC $ARCH -static -nostdlib -nostartfiles -Wl,--build-id=none \
    -Wl,--no-warn-rwx-segments -T sv32-demo/link.ld \
    -o sv32-demo/sv32-demo.elf sv32-demo/sv32-demo.S
echo "built sv32-demo/sv32-demo.elf"

# Bare-metal compute loop for the speed figures (benches/README.md).
$CC $ARCH -static -nostdlib -nostartfiles -Wl,--build-id=none \
    -Wl,--no-warn-rwx-segments -T compute/link.ld \
    -o compute/compute.elf compute/compute.S
echo "built compute/compute.elf"

# Bare-metal CLINT timer interrupt out of wfi.
$CC $ARCH -static -nostdlib -nostartfiles -Wl,--build-id=none \
    -Wl,--no-warn-rwx-segments -T compute/link.ld \
    -o timer/timer.elf timer/timer.S
echo "built timer/timer.elf"
