/* illegal: prints one line, then executes an illegal instruction in user
 * mode (the 16-bit all-zero parcel, defined illegal by the ISA). Under Linux
 * this is SIGILL; the process does not exit normally. */
#include "sys.h"

int main(void)
{
    put_str("illegal: executing an illegal instruction\n");
    flush(1);
    __asm__ volatile(".2byte 0x0000");
    put_str("illegal: NOT REACHED\n");
    flush(1);
    return 1;
}
