/* otakit fleet: the schema with its migrations, and the rollout engine (groups,
 * thresholds, start/pause/resume/cancel) over the SQL interface (db.h). Callers hold
 * whatever lock serialises their connection. */
#ifndef OTAKIT_FLEET_STORE_H
#define OTAKIT_FLEET_STORE_H

#include <stddef.h>

#include "db.h"

/** The schema version this program writes (schema_version.version). */
#define FLEET_SCHEMA_VERSION 2

/** Bring the schema to FLEET_SCHEMA_VERSION. @return 0, or -1 with the reason in err. */
int fleet_schema_migrate(fleet_db_t *db, char *err, size_t cap);

/* Action states. A rollout creates its actions "scheduled"; starting their group makes
 * them "pending" (the device sees them), the device's first GET of the deploymentBase
 * or a feedback makes them "running"; "finished", "error" and "canceled" are final. */
#define FLEET_ACTION_ACTIVE "('pending','running','canceling')"

/** One group of a rollout: a percentage of the matched devices, or a count. */
typedef struct {
    int percent; /**< 1..100, or 0 when count is used */
    long long count;
} fleet_group_spec_t;

typedef struct {
    const char *name;
    long long artifact_id;
    const char *filter_group; /**< device group, or NULL for any */
    const char *filter_tag;   /**< device tag, or NULL for any */
    const char *filter_json;  /**< the filter as stored and shown */
    const fleet_group_spec_t *groups;
    size_t ngroups;
    int success_threshold; /**< % of a group finished successfully that starts the next */
    int error_threshold;   /**< % of a group failed that pauses the rollout */
} fleet_rollout_spec_t;

/** Create a rollout ("ready"). @return 0 and *id; -1 with *why (a client error) or
 * -2 (a database error). */
int fleet_rollout_create(fleet_db_t *db, const fleet_rollout_spec_t *spec, long long *id,
                         const char **why);

/** start | pause | resume | cancel. @return 0; -1 with *why (not allowed in this
 * state, unknown rollout: *notfound set) or -2 (database). */
int fleet_rollout_control(fleet_db_t *db, long long id, const char *verb, const char **why,
                          int *notfound);

/** Count an action that just closed (state: finished, error or canceled) in its group's
 * counts (nothing when it has no group); in the transaction that closed it, once per
 * closing. @return 0 or -1. */
int fleet_group_count_closed(fleet_db_t *db, const char *action_id, const char *state);

/** Re-evaluate a rollout after one of its actions changed: start the next group on the
 * success threshold, pause on the error threshold, finish when all is done. Safe to run
 * from several servers at once (every step is a conditional update). @return 0 or -1. */
int fleet_rollout_evaluate(fleet_db_t *db, long long id);

/** Random token of 32 hex digits into out (33 bytes). @return 0 or -1. */
int fleet_random_token(char out[33]);

#endif
