/* otakit fleet: the request bodies of hawkBit's Direct Device Integration API v1 that
 * a device sends (action feedback, configData), parsed into bounded structs. The
 * feedback goes through otakit's one DDI parser (ddi_device/ddi_device.h), with the
 * server's bounds on its details; configData, which only the server reads, is parsed
 * here. Pure functions of (buf, len); tests/fuzz/fuzz_ddi.c drives them. docs/fleet.md
 * has the shapes. */
#ifndef OTAKIT_FLEET_DDI_H
#define OTAKIT_FLEET_DDI_H

#include <stdbool.h>
#include <stddef.h>

#include "ddi_device.h"

/* The server's names for the shared parser's values. */
typedef otakit_ddi_exec_t ddi_exec_t; /**< status.execution */
#define DDI_EXEC_CLOSED OTAKIT_DDI_EXEC_CLOSED
#define DDI_EXEC_PROCEEDING OTAKIT_DDI_EXEC_PROCEEDING
#define DDI_EXEC_CANCELED OTAKIT_DDI_EXEC_CANCELED
#define DDI_EXEC_SCHEDULED OTAKIT_DDI_EXEC_SCHEDULED
#define DDI_EXEC_REJECTED OTAKIT_DDI_EXEC_REJECTED
#define DDI_EXEC_RESUMED OTAKIT_DDI_EXEC_RESUMED
#define DDI_EXEC_DOWNLOADED OTAKIT_DDI_EXEC_DOWNLOADED
#define DDI_EXEC_DOWNLOAD OTAKIT_DDI_EXEC_DOWNLOAD
typedef otakit_ddi_finished_t ddi_result_t; /**< status.result.finished */
#define DDI_RESULT_NONE OTAKIT_DDI_FINISHED_NONE
#define DDI_RESULT_SUCCESS OTAKIT_DDI_FINISHED_SUCCESS
#define DDI_RESULT_FAILURE OTAKIT_DDI_FINISHED_FAILURE
#define ddi_exec_name otakit_ddi_exec_name
#define ddi_result_name otakit_ddi_finished_name

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
 * "progress": {"cnt": N, "of": N}}, "code": N, "details": ["..."]}, "time": "..."},
 * at most DDI_BODY_MAX bytes, at most DDI_DETAILS_MAX details of DDI_DETAIL_LEN_MAX
 * characters (more is refused).
 * @return 0, or -1 with *why naming the problem (valid until the thread's next call).
 */
int ddi_feedback_parse(const char *buf, size_t len, ddi_feedback_t *out, const char **why);
void ddi_feedback_free(ddi_feedback_t *f);

/**
 * Parse a configData body: {"mode": "merge"|"replace"|"remove", "data": {"k": "v", ...}}.
 * @return 0, or -1 with *why naming the problem (valid until the thread's next call).
 */
int ddi_config_parse(const char *buf, size_t len, ddi_config_t *out, const char **why);

#endif
