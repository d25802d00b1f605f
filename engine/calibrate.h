/* calibrate.h — this host's limits, measured once: memory bandwidth and peak compute rate.
 *
 * Achieved GB/s and GFLOP/s of a workload mean little alone; shown as a fraction of what
 * the machine can do they say whether a kernel is at the hardware's limit. `scalelab-engine
 * calibrate` runs these STREAM-style measurements and saves them as JSON; `run` loads them.
 */
#ifndef SL_CALIBRATE_H
#define SL_CALIBRATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct sl_calib {
    unsigned threads;         /* worker count used for the "all" figures */
    uint64_t array_bytes;     /* bytes per array in the bandwidth tests */
    double read_gbs_1;        /* read-only sum, 1 thread, GB/s (1e9 bytes/s), best of trials */
    double read_gbs_all;      /* read-only sum, all threads */
    double triad_gbs_1;       /* a[i] = b[i] + s * c[i], 24 bytes/element, 1 thread */
    double triad_gbs_all;     /* triad, all threads */
    double gflops_1;          /* peak double-precision FMA rate on 1 core, GFLOP/s (vector, independent chains) */
    double gflops_all;        /* the same on all threads */
    int64_t when;             /* unix time of the measurement */
    char host[64];            /* hostname it was measured on */
    char cpu_model[128];      /* CPU it was measured on: a calibration from another CPU is ignored */
};

/* Measure. threads = 0 means all allowed CPUs. progress, when not NULL, is called with a
 * short label before each test. Takes a few seconds; allocates 3 arrays of array_bytes each
 * (0 picks 4x the last-level cache, at least 256 MiB). Returns 0 or a negative SL_E* code. */
int sl_calibrate_run(struct sl_calib *c, unsigned threads, size_t array_bytes,
                     void (*progress)(const char *label));

/* How much slower all threads may read than one before the calibration is called suspect:
 * more threads can share a bandwidth, never lose it, so a drop beyond the noise of the best
 * of several trials means the machine was busy (or throttled) while it was measured. */
#define SL_CALIB_NOISE 0.05

/* Sanity check: 0 when the figures are plausible; otherwise -SL_EINVAL and a sentence in note
 * saying which figure is wrong and what to do. note gets "" when all is well. */
int sl_calibrate_check(const struct sl_calib *c, char *note, size_t len);

/* The default file: $SCALELAB_CALIBRATION, else $XDG_CACHE_HOME/scalelab/calibration.json,
 * else $HOME/.cache/scalelab/calibration.json. Writes into buf; returns buf, or NULL when no
 * path can be formed. */
const char *sl_calibrate_default_path(char *buf, size_t len);

/* Save as JSON (creating parent directories). Returns 0 or -SL_EIO. */
int sl_calibrate_save(const struct sl_calib *c, const char *path);

/* Load from JSON. Returns 0, -SL_ENOENT when the file does not exist, -SL_EINVAL when it is
 * malformed. */
int sl_calibrate_load(struct sl_calib *c, const char *path);

/* The calibration as a JSON object (new reference, caller owns it), or NULL; it carries
 * "status" ("ok" | "suspect") and "note" (null or why) from sl_calibrate_check. */
json_t *sl_calibrate_to_json(const struct sl_calib *c);

/* Parse the object made by sl_calibrate_to_json. Returns 0 or -SL_EINVAL. */
int sl_calibrate_from_json(struct sl_calib *c, const json_t *o);

#endif /* SL_CALIBRATE_H */
