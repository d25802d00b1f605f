/* programs.h — the registry of programs an operator allows: a folder of JSON definitions.
 *
 * Each *.json file of the folder defines one group: the programs that do the same work by
 * different routes (the Python routes of pi, ...), its declared parameters with their ranges,
 * the parameter that is its size, the tolerance within which the routes' results must agree,
 * and for each program its argv template, environment, the route it stands for, whether it
 * is the group's baseline, what it requires and a probe command saying whether it can run.
 * `{dir}` in a template is the folder itself; `{cores}` and the declared parameters are
 * replaced by the engine at each run. The server runs only these (and, with
 * --allow-commands, ad-hoc commands): an API client picks names and values, never argv.
 *
 * Probes run once, when a program is first listed or asked for (a server that never serves
 * programs never runs them), and the answer is kept; programs with the same probe and
 * requirements share one answer, and a listing runs the distinct probes at once.
 */
#ifndef SL_PROGRAMS_H
#define SL_PROGRAMS_H

#include <jansson.h>
#include <stddef.h>

struct sl_programs;

/* Load every *.json of dir. A missing folder is an empty registry; a malformed definition
 * is refused (NULL, with the file and the problem in err) so that an operator's mistake is
 * seen at start. Free with sl_programs_free. */
struct sl_programs *sl_programs_load(const char *dir, char *err, size_t errlen);
void sl_programs_free(struct sl_programs *p);

/* A probe that said "not available" is run again when its answer is older than seconds
 * (default 30; 0 = at every listing or run); "available" is kept. */
void sl_programs_retry_after(struct sl_programs *p, double seconds);

/* GET /api/programs: {"dir", "groups": [{group, title, lesson, params, size_param,
 * tolerance, baseline, programs: [{name, title, route, lesson, baseline, parallel, argv,
 * requires, available, reason?}]}]} (new reference). Runs the probes not yet run, or due
 * again. */
json_t *sl_programs_list(struct sl_programs *p);

/* Turn an API body {"programs": [names], "params": {...}, cores, repeats, ...} into the
 * engine's program job (new reference in *job). The group's baseline is added when it is
 * not listed. Returns 0, or a negative SL_E* code with one sentence in err and the field
 * it concerns in field ("programs", "params.samples"). */
int sl_programs_job(struct sl_programs *p, const json_t *body, json_t **job, char *err,
                    size_t errlen, char *field, size_t fieldlen);

#endif /* SL_PROGRAMS_H */
