/* loop: prints one line, then loops forever (for instruction-limit tests). */
#include "sys.h"

int main(void)
{
    put_str("loop: looping forever\n");
    flush(1);
    __asm__ volatile("1: j 1b");
    __builtin_unreachable();
}
