/* otakit fleet: the SQL interface on SQLite and libpq (db.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "db.h"

/* Prepared statements kept per SQL text (a request runs the same few dozen statements
 * again and again; parsing and planning them was a good part of its CPU): SQLite's
 * sqlite3_stmt, or PostgreSQL's named statement "otakit_N" on this connection. */
#define STMT_CACHE 128

struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
    unsigned long long used;
    unsigned long long pg_name; /* "otakit_N": names are never reused */
};

struct fleet_db {
    sqlite3 *lite;
    PGconn *pg;
    struct stmt_slot cache[STMT_CACHE];
    unsigned long long tick, pg_names;
    char err[512];
};

static void set_err(fleet_db_t *db, const char *msg)
{
    snprintf(db->err, sizeof(db->err), "%s", msg != NULL ? msg : "unknown database error");
    size_t n = strlen(db->err);
    while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' ')) {
        db->err[--n] = '\0';
    }
}

const char *fleet_i64(char buf[24], long long v)
{
    snprintf(buf, 24, "%lld", v);
    return buf;
}

static bool is_pg_spec(const char *spec)
{
    return strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0 ||
           strchr(spec, '=') != NULL;
}

int fleet_db_open(const char *spec, fleet_db_t **out, char *err, size_t errcap)
{
    fleet_db_t *db = calloc(1, sizeof(*db));
    if (db == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (is_pg_spec(spec)) {
        db->pg = PQconnectdb(spec);
        if (PQstatus(db->pg) != CONNECTION_OK) {
            set_err(db, PQerrorMessage(db->pg));
            snprintf(err, errcap, "PostgreSQL: %s", db->err);
            fleet_db_close(db);
            return -1;
        }
        /* Notices (CREATE ... IF NOT EXISTS) are not for the server's log. */
        PQsetNoticeProcessor(db->pg, NULL, NULL);
        PQclear(PQexec(db->pg, "SET client_min_messages TO warning"));
        *out = db;
        return 0;
    }
    const char *path = strncmp(spec, "sqlite:", 7) == 0 ? spec + 7 : spec;
    if (sqlite3_open_v2(path, &db->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errcap, "%s: %s", path,
                 db->lite != NULL ? sqlite3_errmsg(db->lite) : "cannot open");
        fleet_db_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db->lite, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db->lite,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errcap, "%s: %s", path, msg != NULL ? msg : "cannot set WAL mode");
        sqlite3_free(msg);
        fleet_db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void fleet_db_close(fleet_db_t *db)
{
    if (db == NULL) {
        return;
    }
    if (db->pg != NULL) {
        PQfinish(db->pg);
    }
    for (size_t i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(db->cache[i].st);
        free(db->cache[i].sql);
    }
    if (db->lite != NULL) {
        sqlite3_close(db->lite);
    }
    free(db);
}

bool fleet_db_is_pg(const fleet_db_t *db)
{
    return db->pg != NULL;
}

const char *fleet_db_error(const fleet_db_t *db)
{
    return db->err;
}

static fleet_rows_t *rows_new(size_t rows, size_t cols)
{
    fleet_rows_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->rows = rows;
    r->cols = cols;
    if (rows * cols > 0) {
        r->cell = calloc(rows * cols, sizeof(char *));
        if (r->cell == NULL) {
            free(r);
            return NULL;
        }
    }
    return r;
}

void fleet_rows_free(fleet_rows_t *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->rows * r->cols; i++) {
        free(r->cell[i]);
    }
    free(r->cell);
    free(r);
}

const char *fleet_rows_get(const fleet_rows_t *r, size_t row, size_t col)
{
    if (r == NULL || row >= r->rows || col >= r->cols) {
        return NULL;
    }
    return r->cell[row * r->cols + col];
}

long long fleet_rows_int(const fleet_rows_t *r, size_t row, size_t col)
{
    const char *s = fleet_rows_get(r, row, col);
    return s != NULL ? strtoll(s, NULL, 10) : 0;
}

/* SQLite: bind $N by name, so a parameter may appear in any order or more than once. */
static int lite_bind(sqlite3_stmt *st, size_t n, const char *const *params)
{
    for (size_t i = 0; i < n; i++) {
        char name[24];
        snprintf(name, sizeof(name), "$%zu", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0) {
            continue;
        }
        int rc = params[i] != NULL ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT)
                                   : sqlite3_bind_null(st, idx);
        if (rc != SQLITE_OK) {
            return -1;
        }
    }
    return 0;
}

/* The prepared statement for sql, from the cache or prepared now (then cached, in place
 * of the least recently used). NULL on error. */
static sqlite3_stmt *lite_prepare(fleet_db_t *db, const char *sql)
{
    struct stmt_slot *victim = &db->cache[0];
    for (size_t i = 0; i < STMT_CACHE; i++) {
        struct stmt_slot *c = &db->cache[i];
        if (c->sql != NULL && strcmp(c->sql, sql) == 0) {
            c->used = ++db->tick;
            return c->st;
        }
        if (c->used < victim->used) {
            victim = c;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        set_err(db, sqlite3_errmsg(db->lite));
        return NULL;
    }
    char *copy = strdup(sql);
    if (copy == NULL) {
        sqlite3_finalize(st);
        set_err(db, "out of memory");
        return NULL;
    }
    sqlite3_finalize(victim->st);
    free(victim->sql);
    victim->sql = copy;
    victim->st = st;
    victim->used = ++db->tick;
    return st;
}

static fleet_rows_t *lite_query(fleet_db_t *db, const char *sql, size_t n,
                                const char *const *params, long long *changed)
{
    sqlite3_stmt *st = lite_prepare(db, sql);
    if (st == NULL) {
        return NULL;
    }
    if (lite_bind(st, n, params) != 0) {
        set_err(db, sqlite3_errmsg(db->lite));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return NULL;
    }
    size_t cols = (size_t)sqlite3_column_count(st);
    size_t cap = 0, rows = 0;
    char **cells = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nc = realloc(cells, ncap * (cols ? cols : 1) * sizeof(char *));
            if (nc == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            cells = nc;
            cap = ncap;
        }
        for (size_t c = 0; c < cols; c++) {
            const unsigned char *t = sqlite3_column_text(st, (int)c);
            cells[rows * cols + c] = t != NULL ? strdup((const char *)t) : NULL;
        }
        rows++;
    }
    fleet_rows_t *r = NULL;
    if (rc == SQLITE_DONE) {
        r = calloc(1, sizeof(*r));
    }
    if (r == NULL) {
        set_err(db, rc == SQLITE_DONE ? "out of memory" : sqlite3_errmsg(db->lite));
        for (size_t i = 0; i < rows * cols; i++) {
            free(cells[i]);
        }
        free(cells);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return NULL;
    }
    r->rows = rows;
    r->cols = cols;
    r->cell = cells;
    if (changed != NULL) {
        *changed = sqlite3_changes(db->lite);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* The name of sql's prepared statement on the PostgreSQL connection (prepared now on a
 * miss, in place of the least recently used). -1 on error. */
static int pg_prepare(fleet_db_t *db, const char *sql, size_t n, char name[24])
{
    struct stmt_slot *victim = &db->cache[0];
    for (size_t i = 0; i < STMT_CACHE; i++) {
        struct stmt_slot *c = &db->cache[i];
        if (c->sql != NULL && strcmp(c->sql, sql) == 0) {
            c->used = ++db->tick;
            snprintf(name, 24, "otakit_%llu", c->pg_name);
            return 0;
        }
        if (c->used < victim->used) {
            victim = c;
        }
    }
    if (victim->sql != NULL) {
        /* Best effort: in a failed transaction it fails, and the old statement stays
         * behind under its own name. */
        char dealloc[48];
        snprintf(dealloc, sizeof(dealloc), "DEALLOCATE otakit_%llu", victim->pg_name);
        PQclear(PQexec(db->pg, dealloc));
        free(victim->sql);
        victim->sql = NULL;
        victim->used = 0;
    }
    char *copy = strdup(sql);
    if (copy == NULL) {
        set_err(db, "out of memory");
        return -1;
    }
    victim->pg_name = ++db->pg_names;
    snprintf(name, 24, "otakit_%llu", victim->pg_name);
    PGresult *res = PQprepare(db->pg, name, sql, (int)n, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        set_err(db, PQresultErrorMessage(res));
        PQclear(res);
        free(copy);
        return -1;
    }
    PQclear(res);
    victim->sql = copy;
    victim->used = ++db->tick;
    return 0;
}

static fleet_rows_t *pg_query(fleet_db_t *db, const char *sql, size_t n, const char *const *params,
                              long long *changed)
{
    char name[24];
    if (pg_prepare(db, sql, n, name) != 0) {
        return NULL;
    }
    PGresult *res = PQexecPrepared(db->pg, name, (int)n, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        set_err(db, PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    size_t rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);
    fleet_rows_t *r = rows_new(rows, cols);
    if (r == NULL) {
        set_err(db, "out of memory");
        PQclear(res);
        return NULL;
    }
    for (size_t i = 0; i < rows; i++) {
        for (size_t c = 0; c < cols; c++) {
            if (!PQgetisnull(res, (int)i, (int)c)) {
                r->cell[i * cols + c] = strdup(PQgetvalue(res, (int)i, (int)c));
            }
        }
    }
    if (changed != NULL) {
        const char *t = PQcmdTuples(res);
        *changed = t[0] != '\0' ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(res);
    return r;
}

fleet_rows_t *fleet_db_query(fleet_db_t *db, const char *sql, size_t n, const char *const *params)
{
    return db->pg != NULL ? pg_query(db, sql, n, params, NULL)
                          : lite_query(db, sql, n, params, NULL);
}

long long fleet_db_exec(fleet_db_t *db, const char *sql, size_t n, const char *const *params)
{
    long long changed = 0;
    fleet_rows_t *r = db->pg != NULL ? pg_query(db, sql, n, params, &changed)
                                     : lite_query(db, sql, n, params, &changed);
    if (r == NULL) {
        return -1;
    }
    fleet_rows_free(r);
    return changed;
}

int fleet_db_script(fleet_db_t *db, const char *sql)
{
    if (db->pg != NULL) {
        PGresult *res = PQexec(db->pg, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            set_err(db, PQresultErrorMessage(res));
            PQclear(res);
            return -1;
        }
        PQclear(res);
        return 0;
    }
    char *msg = NULL;
    if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
        set_err(db, msg);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}
