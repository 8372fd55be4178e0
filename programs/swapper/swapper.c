/* swapper: grows the heap with brk by 8 MiB, writes a pattern into every page
 * (WORDS_PER_PAGE words per 4 KiB page, one every 64 bytes), then reads it
 * back and checks it twice in other orders: pages in a strided permutation,
 * then everything in reverse. Prints a checksum and "ok"; exits 0, or 1 with
 * a "FAILED" line if brk or any check fails. Syscalls: write, brk,
 * exit_group. Executes about 4.3 million instructions (see README.md). */
#include "sys.h"

#define HEAP_BYTES (8u << 20)
#define PAGE 4096u
#define PAGES (HEAP_BYTES / PAGE)          /* 2048 */
#define WORDS_PER_PAGE 64u                 /* stride 64 bytes */
#define STRIDE 997u                        /* odd, so i*STRIDE mod 2048 is a permutation */

static u32 pattern(u32 page, u32 k)
{
    u32 x = page * 0x9e3779b1u + k * 0x85ebca6bu;
    return x ^ (x >> 15);
}

static u32 fails;

static u32 check_page(volatile u32 *heap, u32 page, int reverse, u32 sum)
{
    volatile u32 *p = heap + page * (PAGE / 4);
    for (u32 i = 0; i < WORDS_PER_PAGE; i++) {
        u32 k = reverse ? WORDS_PER_PAGE - 1 - i : i;
        u32 v = p[k * 16];
        if (v != pattern(page, k))
            fails++;
        sum = ((sum << 5) | (sum >> 27)) ^ v;
    }
    return sum;
}

int main(void)
{
    unsigned long cur = sys_brk(0);
    unsigned long base = (cur + PAGE - 1) & ~(unsigned long)(PAGE - 1);
    unsigned long want = base + HEAP_BYTES;
    if (sys_brk(want) != want) {
        put_str("swapper: brk FAILED\n");
        flush(1);
        return 1;
    }
    put_str("swapper: heap grown by 8 MiB (2048 pages)\n");
    flush(1);

    volatile u32 *heap = (volatile u32 *)base;
    for (u32 page = 0; page < PAGES; page++) {
        volatile u32 *p = heap + page * (PAGE / 4);
        for (u32 k = 0; k < WORDS_PER_PAGE; k++)
            p[k * 16] = pattern(page, k);
    }
    put_str("swapper: wrote 131072 words\n");
    flush(1);

    u32 sum1 = 0;
    for (u32 i = 0; i < PAGES; i++)
        sum1 = check_page(heap, (i * STRIDE) % PAGES, 0, sum1);
    put_str("swapper: strided pass checksum ");
    put_hex(sum1);
    put_char('\n');
    flush(1);

    u32 sum2 = 0;
    for (u32 i = 0; i < PAGES; i++)
        sum2 = check_page(heap, PAGES - 1 - i, 1, sum2);
    put_str("swapper: reverse pass checksum ");
    put_hex(sum2);
    put_char('\n');
    flush(1);

    if (fails) {
        put_str("swapper: FAILED, mismatches: ");
        put_dec(fails);
        put_char('\n');
        flush(1);
        return 1;
    }
    put_str("swapper: ok\n");
    flush(1);
    return 0;
}
