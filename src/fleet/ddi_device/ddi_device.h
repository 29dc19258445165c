/**
 * @file ddi_device.h
 * @brief The JSON of Eclipse hawkBit's Direct Device Integration API, version 1: what a
 * device reads (the controller's base resource, a deploymentBase) and what it sends
 * (action feedback, configData), as plain C structs. One parser for every DDI client in
 * otakit (the fleet simulator, the ESP-IDF-style ddi_client component) and for a server
 * that reads feedback.
 *
 * Resources (relative to {server}/{tenant}/controller/v1/{controllerId}):
 * | request | body |
 * |---|---|
 * | GET (base) |
 * {"config":{"polling":{"sleep":"HH:MM:SS"}},"_links":{"deploymentBase":{"href":…},"configData":{"href":…},"cancelAction":{"href":…}}}
 * | | GET deploymentBase/{actionId} |
 * {"id":"…","deployment":{"download":"forced","update":"forced","chunks":[{"part":…,"version":…,"name":…,"artifacts":[{"filename":…,"hashes":{"sha1":…,"md5":…,"sha256":…},"size":N,"_links":{"download-http":{"href":…}}}]}]}}
 * | | POST deploymentBase/{actionId}/feedback |
 * {"id":"…","status":{"execution":"proceeding","result":{"finished":"none","progress":{"cnt":1,"of":3}},"details":["…"]}}
 * | | GET cancelAction/{actionId} | {"id":"…","cancelAction":{"stopId":"…"}} | | PUT configData |
 * {"mode":"merge","data":{"key":"value"}} |
 *
 * Every field is checked: a missing or mistyped required member is an error that names
 * it (otakit_ddi_error_t.what); unknown members are ignored, as DDI asks of clients, and
 * an optional member that is JSON null counts as absent (as hawkBit reads it). A body is
 * one JSON object, with nothing but white space after it. Strings longer than their
 * field are refused, never cut. Parsing uses cJSON; nothing else is allocated.
 *
 * otakit fleet serve reads the feedback through this same parser
 * (otakit_ddi_parse_feedback_each, with its own bounds on the details; src/fleet/ddi.c).
 */
#ifndef OTAKIT_DDI_DEVICE_H
#define OTAKIT_DDI_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_DDI_HREF_MAX 512    /**< bytes of a link, with the NUL */
#define OTAKIT_DDI_NAME_MAX 128    /**< filename, part, version, name, id */
#define OTAKIT_DDI_MAX_CHUNKS 4    /**< chunks (software modules) per deployment */
#define OTAKIT_DDI_MAX_ARTIFACTS 4 /**< artifacts per chunk */
#define OTAKIT_DDI_MAX_DETAILS 4   /**< feedback detail lines kept */
#define OTAKIT_DDI_DETAIL_MAX 256  /**< bytes of a detail line, with the NUL */

/** Why a parse failed: a static description naming the member ("deployment.chunks[0]
 * .artifacts[1].hashes.sha256: not 64 hex digits"). */
typedef struct otakit_ddi_error {
    char what[160];
} otakit_ddi_error_t;

/** The controller's base resource (GET {tenant}/controller/v1/{controllerId}). */
typedef struct otakit_ddi_base {
    uint32_t sleep_s;    /**< config.polling.sleep in seconds */
    bool has_deployment; /**< _links.deploymentBase */
    char deployment_href[OTAKIT_DDI_HREF_MAX];
    uint64_t deployment_action; /**< the {actionId} of deploymentBase's href */
    bool has_cancel;            /**< _links.cancelAction */
    char cancel_href[OTAKIT_DDI_HREF_MAX];
    uint64_t cancel_action;
    bool has_config_data; /**< _links.configData: the server wants attributes */
    char config_data_href[OTAKIT_DDI_HREF_MAX];
} otakit_ddi_base_t;

/** One artifact of a chunk. */
typedef struct otakit_ddi_artifact {
    char filename[OTAKIT_DDI_NAME_MAX];
    uint64_t size;
    bool has_sha256, has_sha1, has_md5;
    uint8_t sha256[32];             /**< hashes.sha256, decoded */
    char sha1[41];                  /**< hashes.sha1, hex as given (lower-cased) */
    char md5[33];                   /**< hashes.md5, hex as given (lower-cased) */
    char href[OTAKIT_DDI_HREF_MAX]; /**< _links["download-http"], else _links.download */
} otakit_ddi_artifact_t;

/** One chunk (a software module) of a deployment. */
typedef struct otakit_ddi_chunk {
    char part[OTAKIT_DDI_NAME_MAX];
    char version[OTAKIT_DDI_NAME_MAX];
    char name[OTAKIT_DDI_NAME_MAX];
    size_t artifact_count;
    otakit_ddi_artifact_t artifacts[OTAKIT_DDI_MAX_ARTIFACTS];
} otakit_ddi_chunk_t;

/** deployment.download / deployment.update. */
typedef enum {
    OTAKIT_DDI_HANDLING_FORCED = 0,
    OTAKIT_DDI_HANDLING_ATTEMPT,
    OTAKIT_DDI_HANDLING_SKIP,
} otakit_ddi_handling_t;

/** A deploymentBase resource (GET deploymentBase/{actionId}). */
typedef struct otakit_ddi_deployment {
    char id[OTAKIT_DDI_NAME_MAX]; /**< the action id, a string in DDI */
    uint64_t action;              /**< id as a number */
    otakit_ddi_handling_t download, update;
    bool maintenance_window;    /**< maintenanceWindow present */
    bool maintenance_available; /**< … and "available" */
    size_t chunk_count;
    otakit_ddi_chunk_t chunks[OTAKIT_DDI_MAX_CHUNKS];
} otakit_ddi_deployment_t;

/** status.execution of a feedback. */
typedef enum {
    OTAKIT_DDI_EXEC_CLOSED = 0,
    OTAKIT_DDI_EXEC_PROCEEDING,
    OTAKIT_DDI_EXEC_CANCELED,
    OTAKIT_DDI_EXEC_SCHEDULED,
    OTAKIT_DDI_EXEC_REJECTED,
    OTAKIT_DDI_EXEC_RESUMED,
    OTAKIT_DDI_EXEC_DOWNLOADED,
    OTAKIT_DDI_EXEC_DOWNLOAD,
} otakit_ddi_exec_t;

/** status.result.finished of a feedback. */
typedef enum {
    OTAKIT_DDI_FINISHED_NONE = 0,
    OTAKIT_DDI_FINISHED_SUCCESS,
    OTAKIT_DDI_FINISHED_FAILURE,
} otakit_ddi_finished_t;

/** An action's feedback (POST deploymentBase/{actionId}/feedback). */
typedef struct otakit_ddi_feedback {
    char id[OTAKIT_DDI_NAME_MAX]; /**< the action id ("" = not sent / not given) */
    otakit_ddi_exec_t execution;
    otakit_ddi_finished_t finished;
    bool has_progress;
    uint32_t progress_cnt, progress_of;
    bool has_code;
    int32_t code; /**< status.code (newer servers), optional */
    size_t detail_count;
    char details[OTAKIT_DDI_MAX_DETAILS][OTAKIT_DDI_DETAIL_MAX];
} otakit_ddi_feedback_t;

/**
 * @brief "HH:MM:SS" (hours may have more digits) into seconds.
 * @return 0, or -1 for anything else (minutes or seconds over 59, missing parts).
 */
int otakit_ddi_parse_sleep(const char *s, uint32_t *seconds);

/**
 * @brief The {actionId} of a deploymentBase or cancelAction link: the decimal path
 * segment after "/deploymentBase/" or "/cancelAction/" (a query string may follow).
 * @return 0, or -1 when the href has no such segment.
 */
int otakit_ddi_href_action(const char *href, uint64_t *action);

/** @brief Parse a base resource. @return 0, or -1 with err->what set. */
int otakit_ddi_parse_base(const char *json, size_t len, otakit_ddi_base_t *out,
                          otakit_ddi_error_t *err);
/** @brief Parse a deploymentBase resource. @return 0, or -1 with err->what set. */
int otakit_ddi_parse_deployment(const char *json, size_t len, otakit_ddi_deployment_t *out,
                                otakit_ddi_error_t *err);
/**
 * @brief Parse an action feedback (a server reads it): the first OTAKIT_DDI_MAX_DETAILS
 * details are kept, each cut to OTAKIT_DDI_DETAIL_MAX - 1 bytes (free text for people).
 * @return 0, or -1 with err->what set.
 */
int otakit_ddi_parse_feedback(const char *json, size_t len, otakit_ddi_feedback_t *out,
                              otakit_ddi_error_t *err);

/**
 * @brief Receives each status.details entry of a feedback, in order.
 * @return 0 to go on, or -1 with err->what set to refuse the feedback.
 */
typedef int (*otakit_ddi_detail_fn)(void *ctx, size_t index, const char *text,
                                    otakit_ddi_error_t *err);

/**
 * @brief Parse an action feedback, handing each status.details entry to on_detail instead
 * of keeping it (out->detail_count stays 0): a reader with other bounds keeps them its way.
 * @return 0, or -1 with err->what set (by the parser or by on_detail).
 */
int otakit_ddi_parse_feedback_each(const char *json, size_t len, otakit_ddi_feedback_t *out,
                                   otakit_ddi_detail_fn on_detail, void *ctx,
                                   otakit_ddi_error_t *err);

struct cJSON;
/**
 * @brief The JSON object a DDI body holds, parsed with cJSON: refused when empty, not
 * JSON, followed by anything but white space, or not an object. The caller frees it with
 * cJSON_Delete().
 * @return the object, or NULL with err->what set.
 */
struct cJSON *otakit_ddi_parse_object(const char *json, size_t len, otakit_ddi_error_t *err);
/**
 * @brief A cancelAction resource: its cancelAction.stopId, the action to stop.
 * @return 0, or -1 with err->what set.
 */
int otakit_ddi_parse_cancel(const char *json, size_t len, uint64_t *stop_action,
                            otakit_ddi_error_t *err);

/**
 * @brief Render a feedback as DDI JSON into buf (NUL-terminated); progress only when
 * has_progress, details escaped.
 * @return the length written, or -1 if cap is too small.
 */
int otakit_ddi_feedback_json(const otakit_ddi_feedback_t *fb, char *buf, size_t cap);

/**
 * @brief Render a configData body {"mode":"merge","data":{k:v,…}} into buf.
 * @return the length written, or -1 if cap is too small.
 */
int otakit_ddi_config_json(const char *const *keys, const char *const *values, size_t n, char *buf,
                           size_t cap);

/** "closed", "proceeding", … for an execution value. */
const char *otakit_ddi_exec_name(otakit_ddi_exec_t e);
/** "none", "success", "failure". */
const char *otakit_ddi_finished_name(otakit_ddi_finished_t f);

/** The first artifact of a deployment (chunk 0 first), or NULL if it has none. */
const otakit_ddi_artifact_t *otakit_ddi_first_artifact(const otakit_ddi_deployment_t *d,
                                                       const otakit_ddi_chunk_t **chunk);

#ifdef __cplusplus
}
#endif
#endif
