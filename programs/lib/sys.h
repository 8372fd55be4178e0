/* Syscall wrappers (Linux RISC-V ABI: number in a7, arguments in a0-a5,
 * result in a0) and tiny output helpers. Only write (64), exit (93),
 * exit_group (94) and brk (214) are used. No libc. */
#ifndef SYS_H
#define SYS_H

typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long size_t;

#define SYS_write 64
#define SYS_exit 93
#define SYS_exit_group 94
#define SYS_brk 214

static inline long syscall1(long n, long a)
{
    register long a0 __asm__("a0") = a;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return a0;
}

static inline long syscall3(long n, long a, long b, long c)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static inline long sys_write(int fd, const void *buf, size_t len)
{
    return syscall3(SYS_write, fd, (long)buf, (long)len);
}

/* Raw Linux brk: returns the new break on success, the unchanged current
 * break on failure; brk(0) returns the current break. */
static inline unsigned long sys_brk(unsigned long addr)
{
    return (unsigned long)syscall1(SYS_brk, (long)addr);
}

static inline __attribute__((noreturn)) void sys_exit(int code)
{
    syscall1(SYS_exit, code);
    __builtin_unreachable();
}

static inline __attribute__((noreturn)) void sys_exit_group(int code)
{
    syscall1(SYS_exit_group, code);
    __builtin_unreachable();
}

/* Line-buffered output: put_* append to a buffer, flush() writes it. */
void put_char(char c);
void put_str(const char *s);
void put_dec(u32 v);
void put_sdec(i32 v);
void put_hex(u32 v); /* 0x-prefixed, 8 lowercase digits */
void flush(int fd);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
