/* diagnosis.h — the one cause that limits a backend, chosen from measured evidence.
 *
 * Each backend of an analysis gets one cause and one sentence that names the figure it rests
 * on (a share of wall time, a CPU use, a bandwidth fraction, an imbalance, a speedup), so a
 * reader can check the claim against the numbers. The rules are a table tried in order; the
 * first whose evidence holds wins. See diagnosis.c for the thresholds and why.
 */
#ifndef SL_DIAGNOSIS_H
#define SL_DIAGNOSIS_H

struct sl_analysis;
struct sl_abackend;

struct sl_diagnosis {
    const char *cause;   /* "bandwidth", "synchronisation", "startup", "imbalance", "latency",
                          * "dependency", "compute", "scales_well", "baseline", "noisy",
                          * "communication", "insufficient"; NULL before sl_diagnose */
    char sentence[400];  /* one sentence for humans, naming the figure */
    const char *figure;  /* the figure's name ("barrier_share", "cpu_util", ...) or NULL */
    double value;        /* its value (NaN when there is none) */
    unsigned cores;      /* the core count it was measured at (0 when none) */
};

/* Diagnose backend b of analysis a (its points, calibration and host CPU count must be
 * filled in). Writes b->diagnosis; never fails. */
void sl_diagnose(const struct sl_analysis *a, struct sl_abackend *b);

#endif /* SL_DIAGNOSIS_H */
