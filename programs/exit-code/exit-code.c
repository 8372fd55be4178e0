/* exit-code: prints one line and exits with status 3 through exit (93). */
#include "sys.h"

int main(void)
{
    put_str("exit-code: exiting with status 3\n");
    flush(1);
    sys_exit(3);
}
