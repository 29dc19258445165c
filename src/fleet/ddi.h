/* otakit fleet: the request bodies of hawkBit's Direct Device Integration API v1 that
 * a device sends (action feedback, configData), parsed into bounded structs. Pure
 * functions of (buf, len); tests/fuzz/fuzz_ddi.c drives them. docs/fleet.md has the
 * shapes. */
#ifndef OTAKIT_FLEET_DDI_H
#define OTAKIT_FLEET_DDI_H

#include <stdbool.h>
#include <stddef.h>

/** status.execution, hawkBit's DdiStatus.ExecutionStatus. */
typedef enum {
    DDI_EXEC_CLOSED,
    DDI_EXEC_PROCEEDING,
    DDI_EXEC_CANCELED,
    DDI_EXEC_SCHEDULED,
    DDI_EXEC_REJECTED,
    DDI_EXEC_RESUMED,
    DDI_EXEC_DOWNLOADED,
    DDI_EXEC_DOWNLOAD,
} ddi_exec_t;

/** status.result.finished, hawkBit's DdiResult.FinalResult. */
typedef enum { DDI_RESULT_NONE, DDI_RESULT_SUCCESS, DDI_RESULT_FAILURE } ddi_result_t;

#define DDI_DETAILS_MAX 32       /**< status.details entries kept */
#define DDI_DETAIL_LEN_MAX 512   /**< characters per details entry */
#define DDI_ATTR_MAX 64          /**< attributes per configData */
#define DDI_ATTR_KEY_MAX 128     /**< characters per attribute key (hawkBit's limit) */
#define DDI_ATTR_VALUE_MAX 128   /**< characters per attribute value (hawkBit's limit) */
#define DDI_BODY_MAX (16 * 1024) /**< bytes of a DDI request body */

typedef struct {
    ddi_exec_t execution;
    ddi_result_t finished;
    bool has_progress;
    long long progress_cnt, progress_of;
    bool has_code;
    long long code;
    char *details_json; /**< status.details as a JSON array (malloc'd; "[]" when absent) */
} ddi_feedback_t;

typedef enum { DDI_MODE_MERGE, DDI_MODE_REPLACE, DDI_MODE_REMOVE } ddi_mode_t;

typedef struct {
    ddi_mode_t mode;
    size_t n;
    char key[DDI_ATTR_MAX][DDI_ATTR_KEY_MAX + 1];
    char value[DDI_ATTR_MAX][DDI_ATTR_VALUE_MAX + 1];
} ddi_config_t;

/**
 * Parse a feedback body: {"status": {"execution": "...", "result": {"finished": "...",
 * "progress": {"cnt": N, "of": N}}, "code": N, "details": ["..."]}, "time": "..."}.
 * @return 0, or -1 with *why naming the problem (static text).
 */
int ddi_feedback_parse(const char *buf, size_t len, ddi_feedback_t *out, const char **why);
void ddi_feedback_free(ddi_feedback_t *f);

/**
 * Parse a configData body: {"mode": "merge"|"replace"|"remove", "data": {"k": "v", ...}}.
 * @return 0, or -1 with *why naming the problem (static text).
 */
int ddi_config_parse(const char *buf, size_t len, ddi_config_t *out, const char **why);

const char *ddi_exec_name(ddi_exec_t e);
const char *ddi_result_name(ddi_result_t r);

#endif
