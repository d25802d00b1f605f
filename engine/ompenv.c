/* ompenv.c — a short OpenMP spin, set before libgomp starts (see ompenv.h for why). */
#include "ompenv.h"

#include <stdlib.h>
#include <unistd.h>

#include "sl.h"

int sl_ompenv_settle(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
        return 0;
    if (setenv("GOMP_SPINCOUNT", SL_OMP_SPINCOUNT, 1) != 0)
        return -SL_ESYS;
    execv("/proc/self/exe", argv);
    /* Without /proc (an unusual sandbox): leave the environment as it was, so that a child
     * started later does not believe the setting is in force. */
    unsetenv("GOMP_SPINCOUNT");
    return -SL_ESYS;
}
