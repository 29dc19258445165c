/* The fleet simulator's parts: the sparse flash (NOR rules, per-device isolation,
 * sharing by content, power cuts) and the device-side DDI JSON (parsing, errors that
 * name the member, the bodies a device sends). */
#include <stdlib.h>
#include <string.h>

#include "ddi.h"
#include "ddi_device.h"
#include "harness.h"
#include "sflash.h"
#include "sim.h"

#define SZ (64u * 1024u)

static uint8_t *base_image(void)
{
    uint8_t *img = malloc(SZ);
    for (uint32_t i = 0; i < SZ; i++) {
        img[i] = (uint8_t)(i * 7u + 3u);
    }
    return img;
}

static void test_nor_rules_and_isolation(void)
{
    uint8_t *img = base_image();
    fleet_store_t *s = fleet_store_new(img, SZ);
    CHECK(s != NULL);
    fleet_flash_t a, b;
    CHECK(fleet_flash_init(&a, s, 1) == 0);
    CHECK(fleet_flash_init(&b, s, 2) == 0);
    uint8_t buf[64];
    CHECK(otakit_flash_read(&a.flash, 0x1000, buf, 16) == OTAKIT_OK);
    CHECK(memcmp(buf, img + 0x1000, 16) == 0);
    /* erase -> 0xFF, write ANDs */
    CHECK(otakit_flash_erase(&a.flash, 0x1000, 0x1000) == OTAKIT_OK);
    CHECK(otakit_flash_read(&a.flash, 0x1000, buf, 16) == OTAKIT_OK);
    for (int i = 0; i < 16; i++) {
        CHECK(buf[i] == 0xFF);
    }
    uint8_t v[2] = {0xF0, 0x0F};
    CHECK(otakit_flash_write(&a.flash, 0x1000, v, 2) == OTAKIT_OK);
    uint8_t w[2] = {0x3C, 0x3C};
    CHECK(otakit_flash_write(&a.flash, 0x1000, w, 2) == OTAKIT_OK);
    CHECK(otakit_flash_read(&a.flash, 0x1000, buf, 2) == OTAKIT_OK);
    CHECK(buf[0] == 0x30 && buf[1] == 0x0C);
    /* b still sees the factory bytes */
    CHECK(otakit_flash_read(&b.flash, 0x1000, buf, 16) == OTAKIT_OK);
    CHECK(memcmp(buf, img + 0x1000, 16) == 0);
    /* a write across a sector boundary */
    CHECK(otakit_flash_erase(&a.flash, 0x2000, 0x2000) == OTAKIT_OK);
    uint8_t x[32];
    memset(x, 0x5A, sizeof(x));
    CHECK(otakit_flash_write(&a.flash, 0x2FF0, x, sizeof(x)) == OTAKIT_OK);
    CHECK(otakit_flash_read(&a.flash, 0x2FE0, buf, 64) == OTAKIT_OK);
    for (int i = 0; i < 64; i++) {
        CHECK(buf[i] == ((i >= 16 && i < 48) ? 0x5A : 0xFF));
    }
    /* the epoch moves on writes and erases */
    uint32_t e0 = a.flash.epoch(a.flash.ctx);
    CHECK(otakit_flash_write(&a.flash, 0x2000, x, 1) == OTAKIT_OK);
    CHECK(a.flash.epoch(a.flash.ctx) != e0);
    fleet_flash_deinit(&a);
    fleet_flash_deinit(&b);
    fleet_store_free(s);
    free(img);
}

static void test_sharing(void)
{
    uint8_t *img = base_image();
    fleet_store_t *s = fleet_store_new(img, SZ);
    enum { N = 8 };
    fleet_flash_t f[N];
    uint8_t data[0x4000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)((i * 2654435761u) >> 13);
    }
    for (int i = 0; i < N; i++) {
        CHECK(fleet_flash_init(&f[i], s, (uint32_t)i + 1) == 0);
        CHECK(otakit_flash_erase(&f[i].flash, 0x8000, 0x4000) == OTAKIT_OK);
        CHECK(otakit_flash_write(&f[i].flash, 0x8000, data, sizeof(data)) == OTAKIT_OK);
    }
    fleet_store_stats_t st;
    fleet_store_stats(s, &st);
    CHECK(st.pool_sectors == 4u * N); /* private until compacted */
    for (int i = 0; i < N; i++) {
        fleet_flash_compact(&f[i]);
    }
    fleet_store_stats(s, &st);
    CHECK(st.pool_sectors == 4); /* the same four sectors, held once */
    CHECK(st.interned == 4);
    /* a write to a shared sector copies it: the others keep their bytes */
    uint8_t z = 0;
    CHECK(otakit_flash_write(&f[3].flash, 0x8000, &z, 1) == OTAKIT_OK);
    uint8_t got;
    CHECK(otakit_flash_read(&f[3].flash, 0x8000, &got, 1) == OTAKIT_OK && got == 0);
    CHECK(otakit_flash_read(&f[4].flash, 0x8000, &got, 1) == OTAKIT_OK && got == data[0]);
    fleet_store_stats(s, &st);
    CHECK(st.pool_sectors == 5);
    /* a sector compacted back to factory bytes or to 0xFF holds nothing */
    CHECK(otakit_flash_erase(&f[5].flash, 0x8000, 0x4000) == OTAKIT_OK);
    fleet_flash_compact(&f[5]);
    for (int i = 0; i < N; i++) {
        fleet_flash_deinit(&f[i]);
    }
    fleet_store_stats(s, &st);
    CHECK(st.pool_sectors == 0);
    CHECK(st.peak_pool_sectors == 4u * N);
    fleet_store_free(s);
    free(img);
}

static void test_cuts(void)
{
    uint8_t *img = base_image();
    fleet_store_t *s = fleet_store_new(img, SZ);
    fleet_flash_t f;
    CHECK(fleet_flash_init(&f, s, 9) == 0);
    uint8_t zeros[256], buf[256];
    memset(zeros, 0, sizeof(zeros));

    /* BEFORE: the cut op does nothing, and the chip is dead until reboot */
    fleet_flash_cut_in(&f, 2, FLEET_CUT_BEFORE);
    CHECK(otakit_flash_erase(&f.flash, 0x1000, 0x1000) == OTAKIT_OK); /* op 1 */
    CHECK(otakit_flash_write(&f.flash, 0x1000, zeros, 16) == OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(f.dead && f.cut);
    CHECK(otakit_flash_read(&f.flash, 0x1000, buf, 16) == OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(otakit_flash_erase(&f.flash, 0x3000, 0x1000) == OTAKIT_ERR_FLASH_OP_FAIL);
    fleet_flash_reboot(&f);
    CHECK(otakit_flash_read(&f.flash, 0x1000, buf, 16) == OTAKIT_OK);
    for (int i = 0; i < 16; i++) {
        CHECK(buf[i] == 0xFF);
    }
    /* AFTER: done, but reported as failed */
    fleet_flash_cut_in(&f, 1, FLEET_CUT_AFTER);
    CHECK(otakit_flash_write(&f.flash, 0x1000, zeros, 16) == OTAKIT_ERR_FLASH_OP_FAIL);
    fleet_flash_reboot(&f);
    CHECK(otakit_flash_read(&f.flash, 0x1000, buf, 16) == OTAKIT_OK);
    CHECK(memcmp(buf, zeros, 16) == 0);
    /* TORN write: a prefix */
    CHECK(otakit_flash_erase(&f.flash, 0x2000, 0x1000) == OTAKIT_OK);
    fleet_flash_cut_in(&f, 1, FLEET_CUT_TORN);
    CHECK(otakit_flash_write(&f.flash, 0x2000, zeros, 256) == OTAKIT_ERR_FLASH_OP_FAIL);
    fleet_flash_reboot(&f);
    CHECK(otakit_flash_read(&f.flash, 0x2000, buf, 256) == OTAKIT_OK);
    int k = 0;
    while (k < 256 && buf[k] == 0) {
        k++;
    }
    CHECK(k < 256);
    for (int i = k; i < 256; i++) {
        CHECK(buf[i] == 0xFF);
    }
    /* TORN erase of 8 sectors: those before the torn one erased, those after untouched */
    fleet_flash_cut_in(&f, 1, FLEET_CUT_TORN);
    CHECK(otakit_flash_erase(&f.flash, 0x8000, 0x8000) == OTAKIT_ERR_FLASH_OP_FAIL);
    fleet_flash_reboot(&f);
    int state = 0; /* 0: erased sectors, 1: past the torn one */
    for (uint32_t sec = 0; sec < 8; sec++) {
        uint32_t a = 0x8000 + sec * 0x1000;
        CHECK(otakit_flash_read(&f.flash, a + 0xFF0, buf, 16) == OTAKIT_OK);
        bool erased = true, factory = memcmp(buf, img + a + 0xFF0, 16) == 0;
        for (int i = 0; i < 16; i++) {
            erased = erased && buf[i] == 0xFF;
        }
        if (state == 0 && !erased) {
            state = 1; /* the torn sector: its tail still holds factory bytes */
            CHECK(factory);
        } else if (state == 1) {
            CHECK(factory);
        }
    }
    CHECK(state == 1);
    CHECK(f.ops == 6);
    fleet_flash_deinit(&f);
    fleet_store_free(s);
    free(img);
}

static const char BASE[] =
    "{\"config\":{\"polling\":{\"sleep\":\"12:00:05\"}},\"_links\":{"
    "\"deploymentBase\":{\"href\":\"http://h/T/controller/v1/d1/deploymentBase/42?c=-2129030598\"},"
    "\"configData\":{\"href\":\"http://h/T/controller/v1/d1/configData\"}}}";

static const char DEPLOY[] =
    "{\"id\":\"42\",\"deployment\":{\"download\":\"forced\",\"update\":\"attempt\","
    "\"maintenanceWindow\":\"available\",\"chunks\":[{\"part\":\"os\",\"version\":\"2.0.0\","
    "\"name\":\"app\",\"artifacts\":[{\"filename\":\"app.bin\",\"hashes\":{"
    "\"sha1\":\"2ef7bde608ce5404e97d5f042f95f89f1c232871\","
    "\"md5\":\"ED076287532E86365E841E92BFC50D8C\","
    "\"sha256\":\"7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069\"},"
    "\"size\":12,\"_links\":{\"download\":{\"href\":\"https://h/a\"},"
    "\"download-http\":{\"href\":\"http://h/a\"}}}],\"metadata\":[]}]},"
    "\"actionHistory\":{\"status\":\"SCHEDULED\",\"messages\":[]}}";

static void test_ddi_parse(void)
{
    otakit_ddi_base_t b;
    otakit_ddi_error_t err;
    CHECK(otakit_ddi_parse_base(BASE, strlen(BASE), &b, &err) == 0);
    CHECK(b.sleep_s == 12u * 3600u + 5u);
    CHECK(b.has_deployment && b.deployment_action == 42);
    CHECK(b.has_config_data && !b.has_cancel);
    CHECK(strcmp(b.config_data_href, "http://h/T/controller/v1/d1/configData") == 0);

    otakit_ddi_deployment_t d;
    CHECK(otakit_ddi_parse_deployment(DEPLOY, strlen(DEPLOY), &d, &err) == 0);
    CHECK(d.action == 42 && d.update == OTAKIT_DDI_HANDLING_ATTEMPT);
    CHECK(d.maintenance_window && d.maintenance_available);
    CHECK(d.chunk_count == 1 && d.chunks[0].artifact_count == 1);
    const otakit_ddi_artifact_t *a = otakit_ddi_first_artifact(&d, NULL);
    CHECK(a != NULL && a->size == 12 && a->has_sha256 && a->sha256[0] == 0x7f &&
          a->sha256[31] == 0x69);
    CHECK(strcmp(a->md5, "ed076287532e86365e841e92bfc50d8c") == 0);
    CHECK(strcmp(a->href, "http://h/a") == 0); /* download-http before download */

    /* errors name the member */
    char bad[sizeof(DEPLOY)];
    strcpy(bad, DEPLOY);
    char *p = strstr(bad, "7f83");
    p[3] = 'x';
    CHECK(otakit_ddi_parse_deployment(bad, strlen(bad), &d, &err) == -1);
    CHECK(strstr(err.what, "deployment.chunks[0].artifacts[0].hashes.sha256") != NULL);
    const char *nosleep = "{\"config\":{\"polling\":{\"sleep\":\"1:2:3\"}}}";
    CHECK(otakit_ddi_parse_base(nosleep, strlen(nosleep), &b, &err) == -1);
    CHECK(strstr(err.what, "config.polling.sleep") != NULL);
    CHECK(otakit_ddi_parse_base("[1]", 3, &b, &err) == -1);
    CHECK(otakit_ddi_parse_base("{", 1, &b, &err) == -1);
    const char *nolink =
        "{\"id\":\"1\",\"deployment\":{\"chunks\":[{\"part\":\"p\",\"version\":\"v\","
        "\"artifacts\":[{\"filename\":\"f\",\"size\":1,\"_links\":{}}]}]}}";
    CHECK(otakit_ddi_parse_deployment(nolink, strlen(nolink), &d, &err) == -1);
    CHECK(strstr(err.what, "neither download-http nor download") != NULL);

    uint32_t sec;
    CHECK(otakit_ddi_parse_sleep("00:00:30", &sec) == 0 && sec == 30);
    CHECK(otakit_ddi_parse_sleep("100:59:59", &sec) == 0 && sec == 100u * 3600u + 3599u);
    CHECK(otakit_ddi_parse_sleep("00:60:00", &sec) == -1);
    CHECK(otakit_ddi_parse_sleep("00:00", &sec) == -1);
    CHECK(otakit_ddi_parse_sleep("00:00:00x", &sec) == -1);
    uint64_t act;
    CHECK(otakit_ddi_href_action("http://h/t/controller/v1/x/cancelAction/7", &act) == 0 &&
          act == 7);
    CHECK(otakit_ddi_href_action("http://h/t/controller/v1/x/deploymentBase/", &act) == -1);
    CHECK(otakit_ddi_href_action("http://h/t/controller/v1/x/deploymentBase/12a", &act) == -1);
    uint64_t stop;
    const char *cancel = "{\"id\":\"9\",\"cancelAction\":{\"stopId\":\"8\"}}";
    CHECK(otakit_ddi_parse_cancel(cancel, strlen(cancel), &stop, &err) == 0 && stop == 8);
}

static void test_ddi_render(void)
{
    otakit_ddi_feedback_t fb, back;
    memset(&fb, 0, sizeof(fb));
    strcpy(fb.id, "42");
    fb.execution = OTAKIT_DDI_EXEC_CLOSED;
    fb.finished = OTAKIT_DDI_FINISHED_FAILURE;
    fb.has_progress = true;
    fb.progress_cnt = 3;
    fb.progress_of = 3;
    fb.detail_count = 2;
    strcpy(fb.details[0], "rolled back: \"self-test\"\\\n");
    strcpy(fb.details[1], "second");
    char json[1024];
    int n = otakit_ddi_feedback_json(&fb, json, sizeof(json));
    CHECK(n > 0 && (size_t)n == strlen(json));
    CHECK(strstr(json, "\"execution\":\"closed\"") != NULL);
    CHECK(strstr(json, "\"finished\":\"failure\"") != NULL);
    CHECK(strstr(json, "\"progress\":{\"cnt\":3,\"of\":3}") != NULL);
    otakit_ddi_error_t err;
    CHECK(otakit_ddi_parse_feedback(json, (size_t)n, &back, &err) == 0);
    CHECK(back.execution == fb.execution && back.finished == fb.finished);
    CHECK(back.has_progress && back.progress_cnt == 3 && back.progress_of == 3);
    CHECK(back.detail_count == 2 && strcmp(back.details[0], fb.details[0]) == 0);
    CHECK(strcmp(back.id, "42") == 0);
    CHECK(otakit_ddi_feedback_json(&fb, json, 40) == -1); /* too small: refused, not cut */
    const char *keys[] = {"a\"b"}, *vals[] = {"v"};
    n = otakit_ddi_config_json(keys, vals, 1, json, sizeof(json));
    CHECK(n > 0 && strcmp(json, "{\"mode\":\"merge\",\"data\":{\"a\\\"b\":\"v\"}}") == 0);
}

/* One feedback parser for both sides: the device's bounds (4 details, cut) and the
 * server's (ddi.c: 32 details of 512 characters, refused past them). */
static void test_ddi_feedback_both_sides(void)
{
    otakit_ddi_feedback_t fb;
    otakit_ddi_error_t err;
    const char *nulls = "{\"id\":null,\"status\":{\"execution\":\"proceeding\",\"result\":"
                        "{\"finished\":\"none\",\"progress\":null},\"code\":null,"
                        "\"details\":null}}";
    CHECK(otakit_ddi_parse_feedback(nulls, strlen(nulls), &fb, &err) == 0);
    CHECK(!fb.has_progress && !fb.has_code && fb.detail_count == 0 && fb.id[0] == '\0');
    const char *trailing = "{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":"
                           "\"success\"}}} x";
    CHECK(otakit_ddi_parse_feedback(trailing, strlen(trailing), &fb, &err) == -1 &&
          strstr(err.what, "text after the object") != NULL);
    const char *big = "{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":"
                      "\"failure\"},\"code\":1e300}}";
    CHECK(otakit_ddi_parse_feedback(big, strlen(big), &fb, &err) == -1 &&
          strstr(err.what, "status.code") != NULL);

    /* six details: the device keeps four; the server keeps all six as JSON */
    char json[4096];
    int n = snprintf(json, sizeof(json),
                     "{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":"
                     "\"success\",\"progress\":{\"cnt\":2,\"of\":3}},\"code\":-5,\"details\":"
                     "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\\\"\"]}}");
    CHECK(otakit_ddi_parse_feedback(json, (size_t)n, &fb, &err) == 0 && fb.detail_count == 4 &&
          strcmp(fb.details[3], "d") == 0);
    ddi_feedback_t f;
    const char *why = NULL;
    CHECK(ddi_feedback_parse(json, (size_t)n, &f, &why) == 0);
    CHECK(f.execution == DDI_EXEC_CLOSED && f.finished == DDI_RESULT_SUCCESS);
    CHECK(f.has_progress && f.progress_cnt == 2 && f.progress_of == 3);
    CHECK(f.has_code && f.code == -5);
    CHECK(f.details_json != NULL &&
          strcmp(f.details_json, "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\\\"\"]") == 0);
    ddi_feedback_free(&f);

    /* 33 details, or one of 513 characters: the server refuses, naming the limit */
    size_t pos = (size_t)snprintf(json, sizeof(json),
                                  "{\"status\":{\"execution\":\"closed\",\"result\":"
                                  "{\"finished\":\"failure\"},\"details\":[");
    for (int i = 0; i < 33; i++) {
        pos += (size_t)snprintf(json + pos, sizeof(json) - pos, "%s\"%d\"", i ? "," : "", i);
    }
    pos += (size_t)snprintf(json + pos, sizeof(json) - pos, "]}}");
    CHECK(ddi_feedback_parse(json, pos, &f, &why) == -1 && strstr(why, "more than 32") != NULL);
    CHECK(otakit_ddi_parse_feedback(json, pos, &fb, &err) == 0 && fb.detail_count == 4);
    pos = (size_t)snprintf(json, sizeof(json),
                           "{\"status\":{\"execution\":\"closed\",\"result\":"
                           "{\"finished\":\"failure\"},\"details\":[\"%0513d\"]}}",
                           0);
    CHECK(ddi_feedback_parse(json, pos, &f, &why) == -1 && strstr(why, "longer than 512") != NULL);
    CHECK(otakit_ddi_parse_feedback(json, pos, &fb, &err) == 0 &&
          strlen(fb.details[0]) == OTAKIT_DDI_DETAIL_MAX - 1);
    CHECK(ddi_feedback_parse("", 0, &f, &why) == -1 && strstr(why, "empty body") != NULL);
}

static void test_faults_spec(void)
{
    fleet_cfg_t c;
    fleet_cfg_init(&c);
    char err[128];
    CHECK(fleet_parse_faults("cut=0.01,link=0.02,selftest=0.5", &c, err, sizeof(err)) == 0);
    CHECK(c.p_cut == 0.01 && c.p_link == 0.02 && c.p_selftest == 0.5);
    CHECK(fleet_parse_faults("cut=2", &c, err, sizeof(err)) == -1 && strstr(err, "cut=2") != NULL);
    CHECK(fleet_parse_faults("flood=0.1", &c, err, sizeof(err)) == -1 &&
          strstr(err, "unknown fault") != NULL);
    CHECK(fleet_parse_faults("cut", &c, err, sizeof(err)) == -1);
}

int main(void)
{
    RUN(test_nor_rules_and_isolation);
    RUN(test_sharing);
    RUN(test_cuts);
    RUN(test_ddi_parse);
    RUN(test_ddi_render);
    RUN(test_ddi_feedback_both_sides);
    RUN(test_faults_spec);
    return harness_done();
}
