/* hello: a small static RV32 Linux user program. Computes a table of primes
 * (byte array sieve), halfword and word arithmetic with multiply/divide, and
 * grows the heap with brk; prints the results and exits with status 0.
 * Syscalls used: write (fd 1 and fd 2), brk, exit_group. */
#include "sys.h"

#define LIMIT 200u

static u8 composite[LIMIT];   /* bss: byte stores/loads */
static u16 sq[64];            /* halfword stores/loads */
static u32 primes[64];
static const char greeting[] = "hello from rv32 user mode";

/* Division and remainder through inline assembly so that the RISC-V
 * results for division by zero and overflow (not C's undefined behaviour)
 * are what gets printed. */
static i32 op_div(i32 a, i32 b) { i32 r; __asm__ volatile("div %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static i32 op_rem(i32 a, i32 b) { i32 r; __asm__ volatile("rem %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static u32 op_divu(u32 a, u32 b) { u32 r; __asm__ volatile("divu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static u32 op_remu(u32 a, u32 b) { u32 r; __asm__ volatile("remu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static u32 op_mulh(i32 a, i32 b) { u32 r; __asm__ volatile("mulh %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static u32 op_mulhu(u32 a, u32 b) { u32 r; __asm__ volatile("mulhu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static u32 op_mulhsu(i32 a, u32 b) { u32 r; __asm__ volatile("mulhsu %0,%1,%2" : "=r"(r) : "r"(a), "r"(b)); return r; }

static void line_divrem(const char *what, i32 a, i32 b)
{
    put_str(what);
    put_sdec(a);
    put_str(" / ");
    put_sdec(b);
    put_str(": div=");
    put_sdec(op_div(a, b));
    put_str(" rem=");
    put_sdec(op_rem(a, b));
    put_str(" divu=");
    put_hex(op_divu((u32)a, (u32)b));
    put_str(" remu=");
    put_hex(op_remu((u32)a, (u32)b));
    put_char('\n');
    flush(1);
}

int main(int argc, char **argv, char **envp)
{
    (void)argv;
    (void)envp;
    put_str(greeting);
    put_str("\nargc=");
    put_dec((u32)argc);
    put_char('\n');
    flush(1);

    /* Sieve of Eratosthenes over a byte array. */
    for (u32 i = 2; i * i < LIMIT; i++)
        if (!composite[i])
            for (u32 j = i * i; j < LIMIT; j += i)
                composite[j] = 1;
    u32 n = 0;
    for (u32 i = 2; i < LIMIT; i++)
        if (!composite[i])
            primes[n++] = i;

    put_str("primes below ");
    put_dec(LIMIT);
    put_str(": ");
    put_dec(n);
    put_char('\n');
    flush(1);
    for (u32 i = 0; i < n; i++) {
        u32 p = primes[i];
        if (p < 100)
            put_char(' ');
        if (p < 10)
            put_char(' ');
        put_dec(p);
        put_char(i % 10 == 9 || i + 1 == n ? '\n' : ' ');
        if (i % 10 == 9 || i + 1 == n)
            flush(1);
    }

    /* Squares truncated to 16 bits, stored as halfwords; the sum of the
     * halfwords, and a word checksum mixing multiply and remainder. */
    u32 hsum = 0, check = 2166136261u;
    for (u32 i = 0; i < n; i++)
        sq[i] = (u16)(primes[i] * primes[i] * primes[i]);
    for (u32 i = 0; i < n; i++) {
        hsum += sq[i];
        check = (check ^ sq[i]) * 16777619u;
        check += primes[i] % 7u + (check >> 27) / 3u;
    }
    put_str("sum of (p*p*p mod 65536): ");
    put_dec(hsum);
    put_str("\nchecksum: ");
    put_hex(check);
    put_char('\n');
    flush(1);

    /* Multiply high and divide corner cases (RISC-V defines them all). */
    put_str("mulh(-7, 123456789)=");
    put_hex(op_mulh(-7, 123456789));
    put_str(" mulhu(0xdeadbeef, 0xcafef00d)=");
    put_hex(op_mulhu(0xdeadbeefu, 0xcafef00du));
    put_str(" mulhsu(-2, 0x80000000)=");
    put_hex(op_mulhsu(-2, 0x80000000u));
    put_char('\n');
    flush(1);
    line_divrem("", -7, 2);
    line_divrem("", 1000003, -17);
    line_divrem("by zero ", 42, 0);
    line_divrem("overflow ", (i32)0x80000000u, -1);

    /* brk: grow the heap by three pages, write and read them back. Addresses
     * are not printed (they depend on the loader), only the outcome. */
    unsigned long cur = sys_brk(0);
    unsigned long want = cur + 3 * 4096;
    unsigned long got = sys_brk(want);
    int ok = got == want;
    if (ok) {
        volatile u32 *w = (volatile u32 *)cur;
        for (u32 i = 0; i < 3 * 1024; i++)
            w[i] = i * 2654435761u;
        for (u32 i = 0; i < 3 * 1024; i++)
            if (w[i] != i * 2654435761u)
                ok = 0;
        ok = ok && sys_brk(0) == want;
    }
    put_str("brk: grew the heap by ");
    put_dec((u32)(want - cur));
    put_str(" bytes: ");
    put_str(ok ? "ok\n" : "FAILED\n");
    flush(1);

    put_str("hello: a line on stderr\n");
    flush(2);
    put_str("bye\n");
    flush(1);
    return ok ? 0 : 1;
}
