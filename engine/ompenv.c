/* ompenv.c — a short OpenMP spin, set before libgomp starts (see ompenv.h for why). */
#include "ompenv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl.h"

int sl_ompenv_settle(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
        return 0;
    if (setenv("GOMP_SPINCOUNT", SL_OMP_SPINCOUNT, 1) != 0 || setenv(SL_OMPENV_MARK, "1", 1) != 0)
        return -SL_ESYS;
    execv("/proc/self/exe", argv);
    /* Without /proc (an unusual sandbox): leave the environment as it was, so that a child
     * started later does not believe the setting is in force. */
    unsetenv("GOMP_SPINCOUNT");
    unsetenv(SL_OMPENV_MARK);
    return -SL_ESYS;
}

static int has_name(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

int sl_ompenv_owned(const char *entry)
{
    if (!getenv(SL_OMPENV_MARK))
        return 0;
    return has_name(entry, SL_OMPENV_MARK) || has_name(entry, "GOMP_SPINCOUNT");
}
