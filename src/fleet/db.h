/* otakit fleet: one SQL interface over SQLite (a file in the data directory, WAL) and
 * PostgreSQL (libpq). The same SQL runs on both: parameters are written $1..$n, values
 * go in and come out as text, and the few dialect differences (the id column type) are
 * spelled as tokens the schema expands (db.c). Not thread-safe: the caller serialises. */
#ifndef OTAKIT_FLEET_DB_H
#define OTAKIT_FLEET_DB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fleet_db fleet_db_t;

/** A whole result set, copied out of the driver: rows x cols text cells (NULL = SQL NULL). */
typedef struct fleet_rows {
    size_t rows, cols;
    char **cell;
} fleet_rows_t;

/**
 * Open a database. spec is "postgresql://...", "postgres://...", a libpq conninfo
 * ("host=... dbname=..."), "sqlite:PATH", or a plain path (SQLite).
 * @return 0, or -1 with the reason in err.
 */
int fleet_db_open(const char *spec, fleet_db_t **out, char *err, size_t errcap);
void fleet_db_close(fleet_db_t *db);
bool fleet_db_is_pg(const fleet_db_t *db);
/** The driver's message for the last failed call. */
const char *fleet_db_error(const fleet_db_t *db);

/** Run sql with n text parameters. @return the rows (possibly none), or NULL on error. */
fleet_rows_t *fleet_db_query(fleet_db_t *db, const char *sql, size_t n, const char *const *params);
/** Run sql with n text parameters. @return rows changed (>= 0), or -1 on error. */
long long fleet_db_exec(fleet_db_t *db, const char *sql, size_t n, const char *const *params);
/** Run a script of statements without parameters (schema). @return 0 or -1. */
int fleet_db_script(fleet_db_t *db, const char *sql);

const char *fleet_rows_get(const fleet_rows_t *r, size_t row, size_t col);
long long fleet_rows_int(const fleet_rows_t *r, size_t row, size_t col);
void fleet_rows_free(fleet_rows_t *r);

/* FLEET_P("a", b, ...) expands to the count and the array fleet_db_query/exec take. */
#define FLEET_P(...)                                                                               \
    (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *[])               \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

/** A 64-bit integer as text in buf (24 bytes), for parameters. */
const char *fleet_i64(char buf[24], long long v);

#endif
