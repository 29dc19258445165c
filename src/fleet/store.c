/* otakit fleet: schema, migrations and the rollout engine (store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "store.h"

/* Migration N takes the schema from version N to N+1. {ID} is the dialect's
 * auto-increment primary key. Only ever append. */
static const char *const MIGRATIONS[] = {
    "CREATE TABLE device ("
    " id {ID},"
    " controller_id TEXT NOT NULL UNIQUE,"
    " token TEXT NOT NULL,"
    " grp TEXT NOT NULL DEFAULT '',"
    " tags TEXT NOT NULL DEFAULT '',"
    " created BIGINT NOT NULL,"
    " last_poll BIGINT,"
    " want_attrs INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE device_attr ("
    " device_id BIGINT NOT NULL REFERENCES device(id),"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (device_id, key));"
    "CREATE TABLE artifact ("
    " id {ID},"
    " filename TEXT NOT NULL,"
    " project TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " secure_version BIGINT NOT NULL,"
    " chip TEXT NOT NULL,"
    " size BIGINT NOT NULL,"
    " sha256 TEXT NOT NULL UNIQUE,"
    " sha1 TEXT NOT NULL,"
    " md5 TEXT NOT NULL,"
    " signed INTEGER NOT NULL,"
    " created BIGINT NOT NULL);"
    "CREATE TABLE rollout ("
    " id {ID},"
    " name TEXT NOT NULL,"
    " artifact_id BIGINT NOT NULL REFERENCES artifact(id),"
    " filter TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " success_threshold INTEGER NOT NULL,"
    " error_threshold INTEGER NOT NULL,"
    " created BIGINT NOT NULL);"
    "CREATE TABLE rollout_group ("
    " id {ID},"
    " rollout_id BIGINT NOT NULL REFERENCES rollout(id),"
    " idx INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " ignore_errors INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (rollout_id, idx));"
    "CREATE TABLE action ("
    " id {ID},"
    " device_id BIGINT NOT NULL REFERENCES device(id),"
    " artifact_id BIGINT NOT NULL REFERENCES artifact(id),"
    " rollout_id BIGINT REFERENCES rollout(id),"
    " group_id BIGINT REFERENCES rollout_group(id),"
    " status TEXT NOT NULL,"
    " created BIGINT NOT NULL,"
    " updated BIGINT NOT NULL,"
    " progress_cnt BIGINT,"
    " progress_of BIGINT);"
    "CREATE INDEX action_device ON action (device_id, status);"
    "CREATE INDEX action_group ON action (group_id, status);"
    "CREATE TABLE action_status ("
    " id {ID},"
    " action_id BIGINT NOT NULL REFERENCES action(id),"
    " time BIGINT NOT NULL,"
    " execution TEXT NOT NULL,"
    " result TEXT NOT NULL,"
    " code BIGINT,"
    " details TEXT NOT NULL);"
    "CREATE INDEX action_status_action ON action_status (action_id);",
    /* 2: a group's counts kept with it (a closing feedback adds to them), so that the
     * rollout's evaluation reads one row per group instead of counting its actions. */
    "ALTER TABLE rollout_group ADD COLUMN size BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE rollout_group ADD COLUMN n_finished BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE rollout_group ADD COLUMN n_error BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE rollout_group ADD COLUMN n_closed BIGINT NOT NULL DEFAULT 0;"
    "UPDATE rollout_group SET"
    " size = (SELECT COUNT(*) FROM action a WHERE a.group_id = rollout_group.id),"
    " n_finished = (SELECT COUNT(*) FROM action a WHERE a.group_id = rollout_group.id AND"
    " a.status = 'finished'),"
    " n_error = (SELECT COUNT(*) FROM action a WHERE a.group_id = rollout_group.id AND"
    " a.status = 'error'),"
    " n_closed = (SELECT COUNT(*) FROM action a WHERE a.group_id = rollout_group.id AND"
    " a.status IN ('finished','error','canceled'));",
};

/* Expand {ID} for the dialect into a malloc'd copy. */
static char *expand(const char *sql, bool pg)
{
    const char *id = pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
    size_t n = 0;
    for (const char *p = strstr(sql, "{ID}"); p != NULL; p = strstr(p + 4, "{ID}")) {
        n++;
    }
    char *out = malloc(strlen(sql) + n * strlen(id) + 1);
    if (out == NULL) {
        return NULL;
    }
    char *o = out;
    const char *p = sql;
    for (const char *q = strstr(p, "{ID}"); q != NULL; q = strstr(p, "{ID}")) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, id, strlen(id));
        o += strlen(id);
        p = q + 4;
    }
    strcpy(o, p);
    return out;
}

int fleet_schema_migrate(fleet_db_t *db, char *err, size_t cap)
{
    bool pg = fleet_db_is_pg(db);
    /* Several servers may start on one PostgreSQL database at once: one migrates. */
    if (pg && fleet_db_script(db, "SELECT pg_advisory_lock(7486021)") != 0) {
        snprintf(err, cap, "%s", fleet_db_error(db));
        return -1;
    }
    int rc = -1;
    fleet_rows_t *r = NULL;
    if (fleet_db_script(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT "
                            "NULL)") != 0) {
        snprintf(err, cap, "schema_version: %s", fleet_db_error(db));
        goto out;
    }
    r = fleet_db_query(db, "SELECT version FROM schema_version", 0, NULL);
    if (r == NULL) {
        snprintf(err, cap, "schema_version: %s", fleet_db_error(db));
        goto out;
    }
    long long have = r->rows > 0 ? fleet_rows_int(r, 0, 0) : 0;
    size_t nmig = sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0]);
    if (have > (long long)nmig) {
        snprintf(err, cap,
                 "the database has schema version %lld, newer than this program's %zu "
                 "(upgrade otakit)",
                 have, nmig);
        goto out;
    }
    if (r->rows == 0 &&
        fleet_db_exec(db, "INSERT INTO schema_version (version) VALUES (0)", 0, NULL) < 0) {
        snprintf(err, cap, "schema_version: %s", fleet_db_error(db));
        goto out;
    }
    for (size_t v = (size_t)have; v < nmig; v++) {
        char *sql = expand(MIGRATIONS[v], pg);
        char ver[24];
        bool ok = sql != NULL && fleet_db_script(db, "BEGIN") == 0 &&
                  fleet_db_script(db, sql) == 0 &&
                  fleet_db_exec(db, "UPDATE schema_version SET version = $1",
                                FLEET_P(fleet_i64(ver, (long long)v + 1))) == 1 &&
                  fleet_db_script(db, "COMMIT") == 0;
        free(sql);
        if (!ok) {
            snprintf(err, cap, "migration to schema version %zu: %s", v + 1, fleet_db_error(db));
            fleet_db_script(db, "ROLLBACK");
            goto out;
        }
    }
    rc = 0;
out:
    fleet_rows_free(r);
    if (pg) {
        fleet_db_script(db, "SELECT pg_advisory_unlock(7486021)");
    }
    return rc;
}

int fleet_random_token(char out[33])
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(b); i++) {
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    }
    return 0;
}

static long long now_s(void)
{
    return (long long)time(NULL);
}

int fleet_rollout_create(fleet_db_t *db, const fleet_rollout_spec_t *spec, long long *id,
                         const char **why)
{
    char a[24], t[24], st[24], et[24];
    fleet_rows_t *dev = NULL, *r = NULL;
    int rc = -2;
    if (fleet_db_script(db, "BEGIN") != 0) {
        return -2;
    }
    r = fleet_db_query(db, "SELECT id FROM artifact WHERE id = $1",
                       FLEET_P(fleet_i64(a, spec->artifact_id)));
    if (r == NULL) {
        goto out;
    }
    if (r->rows == 0) {
        *why = "artifact: no such artifact";
        rc = -1;
        goto out;
    }
    fleet_rows_free(r);
    r = NULL;
    /* The matched devices: in the group and with the tag asked for, and not busy with
     * another action. */
    dev = fleet_db_query(
        db,
        "SELECT id FROM device d WHERE (CAST($1 AS TEXT) IS NULL OR grp = CAST($1 AS TEXT))"
        " AND (CAST($2 AS TEXT) IS NULL OR"
        " (',' || tags || ',') LIKE ('%,' || CAST($2 AS TEXT) || ',%'))"
        " AND NOT EXISTS (SELECT 1 FROM action x WHERE x.device_id = d.id AND x.status "
        "IN " FLEET_ACTION_ACTIVE ") ORDER BY id",
        FLEET_P(spec->filter_group, spec->filter_tag));
    if (dev == NULL) {
        goto out;
    }
    if (dev->rows == 0) {
        *why = "no device matches the filter (or all are busy with another action)";
        rc = -1;
        goto out;
    }
    r = fleet_db_query(db,
                       "INSERT INTO rollout (name, artifact_id, filter, status, success_threshold,"
                       " error_threshold, created) VALUES ($1, $2, $3, 'ready', $4, $5, $6)"
                       " RETURNING id",
                       FLEET_P(spec->name, a, spec->filter_json,
                               fleet_i64(st, spec->success_threshold),
                               fleet_i64(et, spec->error_threshold), fleet_i64(t, now_s())));
    if (r == NULL || r->rows != 1) {
        goto out;
    }
    *id = fleet_rows_int(r, 0, 0);
    fleet_rows_free(r);
    r = NULL;
    size_t total = dev->rows, next = 0, gi = 0;
    for (size_t g = 0; g < spec->ngroups && next < total; g++) {
        size_t want = spec->groups[g].percent > 0
                          ? (total * (size_t)spec->groups[g].percent + 99) / 100
                          : (size_t)spec->groups[g].count;
        if (g + 1 == spec->ngroups || next + want > total) {
            want = total - next; /* the last group takes every device left */
        }
        if (want == 0) {
            continue;
        }
        char rid[24], idx[24];
        r = fleet_db_query(db,
                           "INSERT INTO rollout_group (rollout_id, idx, status) VALUES ($1, $2,"
                           " 'scheduled') RETURNING id",
                           FLEET_P(fleet_i64(rid, *id), fleet_i64(idx, (long long)gi)));
        if (r == NULL || r->rows != 1) {
            goto out;
        }
        const char *gid = fleet_rows_get(r, 0, 0);
        char sz[24];
        if (fleet_db_exec(db, "UPDATE rollout_group SET size = $2 WHERE id = $1",
                          FLEET_P(gid, fleet_i64(sz, (long long)want))) != 1) {
            goto out;
        }
        for (size_t k = 0; k < want; k++, next++) {
            if (fleet_db_exec(db,
                              "INSERT INTO action (device_id, artifact_id, rollout_id, group_id,"
                              " status, created, updated) VALUES ($1, $2, $3, $4, 'scheduled', $5,"
                              " $5)",
                              FLEET_P(fleet_rows_get(dev, next, 0), a, rid, gid, t)) != 1) {
                goto out;
            }
        }
        fleet_rows_free(r);
        r = NULL;
        gi++;
    }
    rc = fleet_db_script(db, "COMMIT") == 0 ? 0 : -2;
out:
    fleet_rows_free(r);
    fleet_rows_free(dev);
    if (rc != 0) {
        fleet_db_script(db, "ROLLBACK");
    }
    return rc;
}

/* Start group idx of a rollout if it is still scheduled. @return 1 started, 0 no such
 * scheduled group, -1 database error. */
static int start_group(fleet_db_t *db, const char *rid, long long idx)
{
    char i[24], t[24];
    fleet_rows_t *r = fleet_db_query(
        db,
        "UPDATE rollout_group SET status = 'running' WHERE rollout_id = $1 AND idx = $2 AND"
        " status = 'scheduled' RETURNING id",
        FLEET_P(rid, fleet_i64(i, idx)));
    if (r == NULL) {
        return -1;
    }
    int started = r->rows == 1;
    if (started) {
        /* One line per opened group: an operator's record, and how a test sees that
         * several servers opened a group exactly once. */
        fprintf(stderr, "otakit: fleet: rollout %s: group %lld started\n", rid, idx + 1);
    }
    if (started &&
        fleet_db_exec(db,
                      "UPDATE action SET status = 'pending', updated = $2 WHERE group_id = $1 AND"
                      " status = 'scheduled'",
                      FLEET_P(fleet_rows_get(r, 0, 0), fleet_i64(t, now_s()))) < 0) {
        started = -1;
    }
    fleet_rows_free(r);
    return started;
}

int fleet_group_count_closed(fleet_db_t *db, const char *action_id, const char *state)
{
    char fin[24], err[24];
    return fleet_db_exec(db,
                         "UPDATE rollout_group SET n_finished = n_finished + $2, n_error ="
                         " n_error + $3, n_closed = n_closed + 1 WHERE id = (SELECT group_id"
                         " FROM action WHERE id = $1)",
                         FLEET_P(action_id, fleet_i64(fin, strcmp(state, "finished") == 0),
                                 fleet_i64(err, strcmp(state, "error") == 0))) < 0
               ? -1
               : 0;
}

int fleet_rollout_evaluate(fleet_db_t *db, long long id)
{
    char rid[24];
    fleet_i64(rid, id);
    fleet_rows_t *ro = fleet_db_query(
        db, "SELECT status, success_threshold, error_threshold FROM rollout WHERE id = $1",
        FLEET_P(rid));
    if (ro == NULL) {
        return -1;
    }
    if (ro->rows != 1 || strcmp(fleet_rows_get(ro, 0, 0), "running") != 0) {
        fleet_rows_free(ro);
        return 0;
    }
    long long succ_thr = fleet_rows_int(ro, 0, 1), err_thr = fleet_rows_int(ro, 0, 2);
    fleet_rows_free(ro);
    /* Per running group: total, finished, failed, still open (the group's counts). */
    fleet_rows_t *g =
        fleet_db_query(db,
                       "SELECT id, idx, ignore_errors, size, n_finished, n_error, size - n_closed"
                       " FROM rollout_group WHERE rollout_id = $1 AND status = 'running'"
                       " ORDER BY idx",
                       FLEET_P(rid));
    if (g == NULL) {
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < g->rows && rc == 0; i++) {
        long long idx = fleet_rows_int(g, i, 1), ignore = fleet_rows_int(g, i, 2);
        long long total = fleet_rows_int(g, i, 3), ok = fleet_rows_int(g, i, 4);
        long long bad = fleet_rows_int(g, i, 5), open = fleet_rows_int(g, i, 6);
        if (!ignore && bad > 0 && bad * 100 >= err_thr * total) {
            if (fleet_db_exec(db,
                              "UPDATE rollout SET status = 'paused' WHERE id = $1 AND status ="
                              " 'running'",
                              FLEET_P(rid)) < 0) {
                rc = -1;
            }
            break; /* paused: nothing starts */
        }
        if (ok * 100 >= succ_thr * total && start_group(db, rid, idx + 1) < 0) {
            rc = -1;
        }
        if (open == 0 && fleet_db_exec(db,
                                       "UPDATE rollout_group SET status = 'finished' WHERE id ="
                                       " $1 AND status = 'running'",
                                       FLEET_P(fleet_rows_get(g, i, 0))) < 0) {
            rc = -1;
        }
    }
    fleet_rows_free(g);
    if (rc != 0) {
        return rc;
    }
    /* Finished when no group is left to run or start. */
    if (fleet_db_exec(db,
                      "UPDATE rollout SET status = 'finished' WHERE id = $1 AND status = 'running'"
                      " AND NOT EXISTS (SELECT 1 FROM rollout_group WHERE rollout_id = $1 AND"
                      " status IN ('scheduled','running'))",
                      FLEET_P(rid)) < 0) {
        return -1;
    }
    return 0;
}

int fleet_rollout_control(fleet_db_t *db, long long id, const char *verb, const char **why,
                          int *notfound)
{
    char rid[24], t[24];
    fleet_i64(rid, id);
    fleet_i64(t, now_s());
    *notfound = 0;
    fleet_rows_t *r = fleet_db_query(db, "SELECT status FROM rollout WHERE id = $1", FLEET_P(rid));
    if (r == NULL) {
        return -2;
    }
    if (r->rows == 0) {
        fleet_rows_free(r);
        *notfound = 1;
        *why = "no such rollout";
        return -1;
    }
    char status[32];
    snprintf(status, sizeof(status), "%s", fleet_rows_get(r, 0, 0));
    fleet_rows_free(r);
    if (fleet_db_script(db, "BEGIN") != 0) {
        return -2;
    }
    long long n = -1;
    if (strcmp(verb, "start") == 0) {
        n = fleet_db_exec(db,
                          "UPDATE rollout SET status = 'running' WHERE id = $1 AND status ="
                          " 'ready'",
                          FLEET_P(rid));
        if (n == 1 && (start_group(db, rid, 0) < 0 || fleet_rollout_evaluate(db, id) != 0)) {
            n = -1;
        }
        *why = "only a ready rollout can be started";
    } else if (strcmp(verb, "pause") == 0) {
        n = fleet_db_exec(db,
                          "UPDATE rollout SET status = 'paused' WHERE id = $1 AND status ="
                          " 'running'",
                          FLEET_P(rid));
        *why = "only a running rollout can be paused";
    } else if (strcmp(verb, "resume") == 0) {
        n = fleet_db_exec(db,
                          "UPDATE rollout SET status = 'running' WHERE id = $1 AND status ="
                          " 'paused'",
                          FLEET_P(rid));
        /* The errors seen so far were looked at: the running groups no longer pause. */
        if (n == 1 && (fleet_db_exec(db,
                                     "UPDATE rollout_group SET ignore_errors = 1 WHERE"
                                     " rollout_id = $1 AND status = 'running'",
                                     FLEET_P(rid)) < 0 ||
                       fleet_rollout_evaluate(db, id) != 0)) {
            n = -1;
        }
        *why = "only a paused rollout can be resumed";
    } else if (strcmp(verb, "cancel") == 0) {
        n = fleet_db_exec(db,
                          "UPDATE rollout SET status = 'canceled' WHERE id = $1 AND status IN"
                          " ('ready','running','paused')",
                          FLEET_P(rid));
        /* Devices that never saw their action lose it now; the others are asked to
         * cancel (cancelAction) and confirm. */
        if (n == 1 &&
            (fleet_db_exec(db,
                           "UPDATE action SET status = 'canceled', updated = $2 WHERE rollout_id"
                           " = $1 AND status = 'scheduled'",
                           FLEET_P(rid, t)) < 0 ||
             fleet_db_exec(db,
                           "UPDATE action SET status = 'canceling', updated = $2 WHERE"
                           " rollout_id = $1 AND status IN ('pending','running')",
                           FLEET_P(rid, t)) < 0 ||
             fleet_db_exec(db,
                           "UPDATE rollout_group SET status = 'canceled', n_closed = (SELECT"
                           " COUNT(*) FROM action a WHERE a.group_id = rollout_group.id AND"
                           " a.status IN ('finished','error','canceled')) WHERE rollout_id = $1"
                           " AND status IN ('scheduled','running')",
                           FLEET_P(rid)) < 0)) {
            n = -1;
        }
        *why = "the rollout is already finished or canceled";
    } else {
        *why = "unknown verb (start, pause, resume, cancel)";
        *notfound = 1;
        fleet_db_script(db, "ROLLBACK");
        return -1;
    }
    if (n < 0) {
        fleet_db_script(db, "ROLLBACK");
        return -2;
    }
    if (fleet_db_script(db, "COMMIT") != 0) {
        fleet_db_script(db, "ROLLBACK");
        return -2;
    }
    if (n == 0) {
        (void)status;
        return -1;
    }
    return 0;
}
