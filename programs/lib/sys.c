/* Output helpers for the user programs (see sys.h). */
#include "sys.h"

static char buf[256];
static u32 len;

void flush(int fd)
{
    u32 off = 0;
    while (off < len) {
        long n = sys_write(fd, buf + off, len - off);
        if (n <= 0)
            sys_exit_group(111);
        off += (u32)n;
    }
    len = 0;
}

void put_char(char c)
{
    if (len == sizeof buf)
        flush(1);
    buf[len++] = c;
}

void put_str(const char *s)
{
    while (*s)
        put_char(*s++);
}

void put_dec(u32 v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        put_char(tmp[--n]);
}

void put_sdec(i32 v)
{
    if (v < 0) {
        put_char('-');
        put_dec(0u - (u32)v);
    } else {
        put_dec((u32)v);
    }
}

void put_hex(u32 v)
{
    put_str("0x");
    for (int s = 28; s >= 0; s -= 4)
        put_char("0123456789abcdef"[(v >> s) & 15u]);
}

void *memset(void *d, int c, size_t n)
{
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}
