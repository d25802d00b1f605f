/* mpiproto.h — what the mpi backend (backends/mpi.c) and its ranks (mpirank.c) say to each other.
 *
 * The engine is the coordinator: it starts `mpirun -np R scalelab-mpi-rank ...` once per core
 * count, and every rank connects back to it over TCP (the only way that also works for ranks
 * on other hosts) and then blocks in read() between runs, so idle ranks of one core count
 * burn no CPU while another point is measured. A run is one command to every rank; the ranks
 * synchronise, compute, exchange and reduce with MPI, and each answers with its own figures.
 * Both ends are the same build on the same architecture, so the messages are plain structs.
 */
#ifndef SL_MPIPROTO_H
#define SL_MPIPROTO_H

#include <stdint.h>

#include "workload.h"

#define SL_MPI_TOKEN_LEN 32   /* hex characters of the token a rank proves itself with */
/* Bumped whenever a message below changes: an engine and a rank program from different
 * builds would otherwise misread each other's structs. */
#define SL_MPI_PROTO_VERSION 3
#define SL_MPI_HOST_LEN 64

/* First message of a rank, after connecting. */
struct sl_mpi_hello {
    char token[SL_MPI_TOKEN_LEN]; /* the token given on the rank's command line */
    uint32_t version;             /* SL_MPI_PROTO_VERSION of the rank's build */
    uint32_t rank, ranks;         /* MPI_COMM_WORLD rank and size */
    uint32_t threads;             /* OpenMP threads it runs */
    int32_t pid;                  /* its process id (on its host) */
    char host[SL_MPI_HOST_LEN];   /* its host name */
};

enum sl_mpi_op {
    SL_MPI_SETUP = 1, /* set up the workload's state (untimed) and first-touch its share */
    SL_MPI_RUN,       /* one timed run */
    SL_MPI_QUIT,      /* leave: MPI_Finalize and exit */
};

/* Engine to every rank. */
struct sl_mpi_cmd {
    uint32_t op;                         /* enum sl_mpi_op */
    char workload[32];                   /* SETUP: the workload's name */
    double params[SL_WL_MAX_PARAMS];     /* SETUP: its parameters */
    uint32_t variant;                    /* RUN: enum sl_variant */
    uint32_t phases;                     /* RUN: phases per run */
};

/* Every rank to the engine, after SETUP (only rc and error count) and after each RUN.
 * Followed by `threads` uint64 busy times, `threads` uint64 waits between phases (the omp
 * barriers and the MPI exchange of the rank's boundary) and `threads` int64 CPUs each thread
 * finished on (RUN), then, from rank 0, `state_bytes` bytes of
 * the last phase's results when the workload's finish() needs them. Times are durations
 * measured on the rank's own clock, so ranks on other hosts need no synchronised clocks. */
struct sl_mpi_reply {
    int32_t rc;                  /* 0 or a negative SL_E* code */
    uint32_t threads;            /* busy times that follow */
    uint64_t start_ns;           /* from the barrier's release until its last thread began */
    uint64_t end_ns;             /* from the barrier's release until its last thread finished */
    uint64_t comm_ns;            /* time inside MPI calls during the run */
    uint64_t pre_ns;             /* from the command's arrival until the barrier's release */
    uint64_t inner_ns;           /* from the command's arrival until this reply */
    uint64_t user_ns, sys_ns;    /* CPU time of the rank (all its threads) during the run */
    struct sl_partial result;    /* rank 0: the result combined over all ranks */
    uint64_t state_bytes;        /* rank 0: bytes of state that follow */
    char error[160];             /* why rc != 0 */
};

/* The hosts and slots of an mpirun hostfile as [{"name", "slots"}], or of this host when
 * hostfile is NULL or "" (new reference; JSON null if the file cannot be read). For the
 * run's header. (backends/mpi.c) */
#include <jansson.h>
json_t *sl_mpi_hosts(const char *hostfile);

#endif /* SL_MPIPROTO_H */
