/* The bootloader's decision against ESP-IDF's rules on every otadata case of the spec. */
#include "fixture.h"
#include "harness.h"

#define SLOT 0x20000u

static uint8_t *img[16];
static size_t img_len[16];

static void put_copy(fx_dev_t *d, int copy, uint32_t seq, uint32_t state)
{
    otakit_otadata_entry_t e;
    otakit_otadata_make(&e, seq, state);
    CHECK_EQ(otakit_otadata_write(d->flash, d->otadata, copy, &e), OTAKIT_OK);
}

/* A device with every slot (and factory) holding a distinct valid image. */
static fx_dev_t *dev(bool factory, unsigned slots)
{
    fx_dev_t *d = fx_dev_new(0x400000, factory, slots, SLOT);
    if (factory) {
        fx_flash_image(d, d->factory, img[15], img_len[15]);
    }
    for (unsigned i = 0; i < slots; i++) {
        fx_flash_image(d, fx_slot(d, i), img[i % 15], img_len[i % 15]);
    }
    return d;
}

static const char *booted(fx_dev_t *d)
{
    otakit_err_t err = fx_boot(d, OTAKIT_BOOT_PIN_NONE);
    return err == OTAKIT_OK ? d->boot.part->label : otakit_err_name(err);
}

static void test_erased_boots_factory(void)
{
    fx_dev_t *d = dev(true, 2);
    CHECK_STR(booted(d), "factory");
    CHECK_EQ(d->boot.write_count, 0);
    fx_dev_free(d);
}

static void test_seq5_two_slots(void)
{
    fx_dev_t *d = dev(true, 2);
    put_copy(d, 0, 5, OTAKIT_OTA_IMG_UNDEFINED);
    CHECK_STR(booted(d), "ota_0");
    put_copy(d, 1, 6, OTAKIT_OTA_IMG_VALID);
    CHECK_STR(booted(d), "ota_1");
    fx_dev_free(d);
}

static void test_tie_goes_to_copy0(void)
{
    fx_dev_t *d = dev(true, 3);
    put_copy(d, 0, 2, OTAKIT_OTA_IMG_VALID); /* slot 1 */
    otakit_otadata_entry_t e;
    otakit_otadata_make(&e, 2, OTAKIT_OTA_IMG_VALID);
    e.label[0] = 0x00; /* same seq, different bytes: still copy 0 wins */
    otakit_otadata_write(d->flash, d->otadata, 1, &e);
    CHECK_STR(booted(d), "ota_1");
    fx_dev_free(d);
}

static void test_one_bad_crc(void)
{
    fx_dev_t *d = dev(true, 2);
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_VALID);
    otakit_otadata_entry_t e;
    otakit_otadata_make(&e, 2, OTAKIT_OTA_IMG_VALID);
    e.crc ^= 0x100;
    otakit_otadata_write(d->flash, d->otadata, 1, &e);
    CHECK_STR(booted(d), "ota_0");
    fx_dev_free(d);
}

static void test_both_bad_crc_falls_back_to_factory(void)
{
    fx_dev_t *d = dev(true, 2);
    otakit_otadata_entry_t e;
    otakit_otadata_make(&e, 1, OTAKIT_OTA_IMG_VALID);
    e.crc = 1;
    otakit_otadata_write(d->flash, d->otadata, 0, &e);
    otakit_otadata_write(d->flash, d->otadata, 1, &e);
    CHECK_STR(booted(d), "factory");
    fx_dev_free(d);
}

static void test_aborted_and_invalid(void)
{
    fx_dev_t *d = dev(true, 2);
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_VALID);
    put_copy(d, 1, 2, OTAKIT_OTA_IMG_ABORTED);
    CHECK_STR(booted(d), "ota_0");
    put_copy(d, 1, 2, OTAKIT_OTA_IMG_INVALID);
    CHECK_STR(booted(d), "ota_0");
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_INVALID);
    CHECK_STR(booted(d), "factory"); /* both invalid -> factory */
    fx_dev_free(d);
}

static void test_three_and_sixteen_slots(void)
{
    fx_dev_t *d = dev(true, 3);
    put_copy(d, 1, 5, OTAKIT_OTA_IMG_UNDEFINED);
    CHECK_STR(booted(d), "ota_1");
    put_copy(d, 0, 6, OTAKIT_OTA_IMG_UNDEFINED);
    CHECK_STR(booted(d), "ota_2");
    fx_dev_free(d);
    d = fx_dev_new(0x400000, false, 16, 0x30000);
    for (unsigned i = 0; i < 16; i++) {
        fx_flash_image(d, fx_slot(d, i), img[i % 15], img_len[i % 15]);
    }
    put_copy(d, 0, 16, OTAKIT_OTA_IMG_UNDEFINED);
    CHECK_STR(booted(d), "ota_15");
    put_copy(d, 1, 17, OTAKIT_OTA_IMG_UNDEFINED);
    CHECK_STR(booted(d), "ota_0");
    fx_dev_free(d);
}

static void test_rollback_transitions(void)
{
    fx_dev_t *d = dev(true, 2);
    d->ota.rollback = true;
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_VALID);
    put_copy(d, 1, 2, OTAKIT_OTA_IMG_NEW);
    CHECK_STR(booted(d), "ota_1");
    CHECK_EQ(d->boot.write_count, 1);
    CHECK_EQ(d->boot.writes[0].copy, 1);
    CHECK_EQ(d->boot.writes[0].state, OTAKIT_OTA_IMG_PENDING_VERIFY);
    CHECK_EQ(d->boot.writes[0].addr, 0xe000);
    /* not confirmed: the next boot aborts it and goes back */
    CHECK_STR(booted(d), "ota_0");
    CHECK_EQ(d->boot.write_count, 1);
    CHECK_EQ(d->boot.writes[0].state, OTAKIT_OTA_IMG_ABORTED);
    otakit_otadata_entry_t e[2];
    otakit_otadata_read(d->flash, d->otadata, e);
    CHECK_EQ(e[1].state, OTAKIT_OTA_IMG_ABORTED);
    CHECK_EQ(e[1].seq, 2);
    /* without rollback the states are not touched (NEW boots as is) */
    d->ota.rollback = false;
    put_copy(d, 1, 2, OTAKIT_OTA_IMG_NEW);
    CHECK_STR(booted(d), "ota_1");
    CHECK_EQ(d->boot.write_count, 0);
    fx_dev_free(d);
}

/* CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS = 3: an unconfirmed app is booted three
 * times, each boot after the first counted by one more seq_label bit programmed to 0
 * (no erase, the entry stays byte-compatible), then rolled back; a stale count in the
 * label is cleared when a NEW entry starts its trial. */
static void test_boot_attempts(void)
{
    fx_dev_t *d = dev(true, 2);
    d->ota.rollback = true;
    d->boot_attempts = 3;
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_VALID);
    otakit_otadata_entry_t e[2], stale;
    otakit_otadata_make(&stale, 2, OTAKIT_OTA_IMG_NEW);
    stale.label[0] = 0x00; /* as if an earlier entry had counted eight boots */
    CHECK_EQ(otakit_otadata_write(d->flash, d->otadata, 1, &stale), OTAKIT_OK);
    CHECK_STR(booted(d), "ota_1"); /* boot 1: NEW -> PENDING_VERIFY, count reset */
    CHECK_EQ(d->boot.writes[0].state, OTAKIT_OTA_IMG_PENDING_VERIFY);
    otakit_otadata_read(d->flash, d->otadata, e);
    CHECK_EQ(e[1].label[0], 0xFF);
    CHECK_EQ(otakit_otadata_boots(&e[1]), 1);
    for (unsigned boot = 2; boot <= 3; boot++) {
        uint32_t erases = otakit_nor_sector_erases(d->nor, (d->otadata->offset + 0x1000) / 0x1000);
        CHECK_STR(booted(d), "ota_1"); /* not confirmed: booted again */
        CHECK_EQ(d->boot.write_count, 1);
        CHECK_STR(d->boot.writes[0].what, "PENDING_VERIFY boot counted");
        CHECK_EQ(d->boot.writes[0].len, 0);
        CHECK_EQ(otakit_nor_sector_erases(d->nor, (d->otadata->offset + 0x1000) / 0x1000),
                 erases); /* programmed, not erased */
        otakit_otadata_read(d->flash, d->otadata, e);
        CHECK_EQ(e[1].state, OTAKIT_OTA_IMG_PENDING_VERIFY);
        CHECK_EQ(otakit_otadata_boots(&e[1]), boot);
        CHECK(otakit_otadata_is_valid(&e[1]));
        CHECK_EQ(e[1].crc, otakit_otadata_crc(2));
    }
    CHECK_EQ(e[1].label[0], 0xFC); /* a unary count: two bits */
    CHECK_STR(booted(d), "ota_0"); /* three boots used: rolled back */
    CHECK_EQ(d->boot.writes[0].state, OTAKIT_OTA_IMG_ABORTED);
    /* A confirmed app keeps its count in the label; VALID ignores it. */
    put_copy(d, 1, 3, OTAKIT_OTA_IMG_NEW);
    CHECK_STR(booted(d), "ota_0"); /* seq 3 selects ota_0 */
    CHECK_STR(booted(d), "ota_0");
    otakit_otadata_read(d->flash, d->otadata, e);
    CHECK_EQ(otakit_otadata_boots(&e[1]), 2);
    e[1].state = OTAKIT_OTA_IMG_VALID;
    CHECK_EQ(otakit_otadata_write(d->flash, d->otadata, 1, &e[1]), OTAKIT_OK);
    CHECK_STR(booted(d), "ota_0");
    CHECK_EQ(d->boot.write_count, 0);
    /* The other copy, not active, is aborted at once, as ESP-IDF does. */
    put_copy(d, 0, 4, OTAKIT_OTA_IMG_PENDING_VERIFY);
    put_copy(d, 1, 5, OTAKIT_OTA_IMG_PENDING_VERIFY);
    CHECK_STR(booted(d), "ota_0"); /* seq 5: ota_0, boot 2 of 3 */
    CHECK_EQ(d->boot.write_count, 2);
    CHECK_EQ(d->boot.writes[0].copy, 0);
    CHECK_EQ(d->boot.writes[0].state, OTAKIT_OTA_IMG_ABORTED);
    CHECK_STR(d->boot.writes[1].what, "PENDING_VERIFY boot counted");
    fx_dev_free(d);
}

/* The decision itself: boots so far against the option, 1 (or 0) being ESP-IDF's rule. */
static void test_boot_attempts_decision(void)
{
    otakit_otadata_entry_t e;
    otakit_otadata_make(&e, 7, OTAKIT_OTA_IMG_PENDING_VERIFY);
    CHECK_EQ(otakit_otadata_boots(&e), 1);
    CHECK(!otakit_otadata_boot_again(&e, 0));
    CHECK(!otakit_otadata_boot_again(&e, 1));
    CHECK(otakit_otadata_boot_again(&e, 2));
    CHECK(otakit_otadata_count_boot(&e));
    CHECK_EQ(otakit_otadata_boots(&e), 2);
    CHECK(!otakit_otadata_boot_again(&e, 2));
    CHECK(otakit_otadata_boot_again(&e, 3));
    /* a torn count (any bits cleared, in any byte) only counts more boots */
    e.label[19] = 0x7E;
    CHECK_EQ(otakit_otadata_boots(&e), 4);
    for (int i = 0; i < 200; i++) {
        (void)otakit_otadata_count_boot(&e);
    }
    CHECK_EQ(otakit_otadata_boots(&e), 161);
    CHECK(!otakit_otadata_count_boot(&e)); /* every bit used */
    CHECK(!otakit_otadata_boot_again(&e, 16));
}

static void test_fallback_through_slots(void)
{
    fx_dev_t *d = dev(true, 3);
    put_copy(d, 0, 3, OTAKIT_OTA_IMG_VALID); /* ota_2 */
    uint8_t z = 0;
    otakit_flash_write(d->flash, fx_slot(d, 2)->offset + 0x10080, &z, 1);
    CHECK_STR(booted(d), "ota_1"); /* start down: ota_1 */
    otakit_flash_write(d->flash, fx_slot(d, 1)->offset + 0x10080, &z, 1);
    otakit_flash_write(d->flash, fx_slot(d, 0)->offset + 0x10080, &z, 1);
    CHECK_STR(booted(d), "factory");
    otakit_flash_erase(d->flash, d->factory->offset, SLOT);
    CHECK_STR(booted(d), "ESP_ERR_NOT_FOUND"); /* nothing bootable */
    fx_dev_free(d);
}

static void test_no_factory_initial_contents(void)
{
    fx_dev_t *d = dev(false, 2);
    CHECK_STR(booted(d), "ota_0");
    CHECK_EQ(d->boot.write_count, 1);
    CHECK_STR(d->boot.writes[0].what, "initial fix-up");
    otakit_otadata_entry_t e[2];
    otakit_otadata_read(d->flash, d->otadata, e);
    CHECK_EQ(e[0].seq, 1);
    CHECK_EQ(e[0].state, OTAKIT_OTA_IMG_VALID);
    /* ota_0 broken, blank otadata: ota_1 boots and copy 0 says seq 2 */
    otakit_flash_erase(d->flash, d->otadata->offset, 0x2000);
    uint8_t z = 0;
    otakit_flash_write(d->flash, fx_slot(d, 0)->offset + 0x10080, &z, 1);
    CHECK_STR(booted(d), "ota_1");
    otakit_otadata_read(d->flash, d->otadata, e);
    CHECK_EQ(e[0].seq, 2);
    fx_dev_free(d);
}

static void test_dry_run_changes_nothing(void)
{
    fx_dev_t *d = dev(true, 2);
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_PENDING_VERIFY);
    put_copy(d, 1, 2, OTAKIT_OTA_IMG_NEW);
    uint8_t before[0x2000];
    memcpy(before, otakit_nor_data(d->nor) + d->otadata->offset, sizeof(before));
    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flash = d->flash;
    cfg.rollback = true;
    cfg.chip_id = OTAKIT_CHIP_ESP32;
    cfg.dry_run = true;
    CHECK_EQ(otakit_boot_select(&cfg, &d->boot), OTAKIT_OK);
    CHECK_STR(d->boot.part->label, "ota_1");
    CHECK_EQ(d->boot.write_count, 2); /* copy0 PENDING->ABORTED, copy1 NEW->PENDING */
    CHECK_MEM(otakit_nor_data(d->nor) + d->otadata->offset, before, sizeof(before));
    fx_dev_free(d);
}

static void test_factory_reset_and_test_pin(void)
{
    fx_dev_t *d = dev(true, 2);
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_VALID);
    uint8_t z[16] = {0};
    otakit_flash_write(d->flash, d->nvs->offset, z, sizeof(z));
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_FACTORY_RESET), OTAKIT_OK);
    CHECK_STR(d->boot.part->label, "factory");
    int blank = 0;
    otakit_flash_is_blank(d->flash, d->nvs->offset, d->nvs->size, &blank);
    CHECK(blank);
    otakit_flash_is_blank(d->flash, d->otadata->offset, 0x2000, &blank);
    CHECK(blank);
    /* no test partition: the test pin is refused and the normal choice made */
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_TEST), OTAKIT_OK);
    CHECK_STR(d->boot.part->label, "factory");
    fx_dev_free(d);
}

static void test_bad_table(void)
{
    fx_dev_t *d = dev(true, 2);
    uint8_t z = 0;
    otakit_flash_write(d->flash, 0x8000 + 2, &z, 1); /* break the first record's type: MD5 fails */
    CHECK_STR(booted(d), "ESP_ERR_INVALID_STATE");
    fx_dev_free(d);
}

/* The table is checked against the chip size the bootloader's image header gives. */
static void test_table_against_header_flash_size(void)
{
    fx_dev_t *d = dev(true, 2); /* ends at 0x70000 */
    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flash = d->flash;
    cfg.chip_id = OTAKIT_CHIP_ESP32;
    cfg.flash_size = 0x40000; /* a header that says 256 KB */
    CHECK_EQ(otakit_boot_select(&cfg, &d->boot), OTAKIT_ERR_INVALID_STATE);
    cfg.flash_size = 0x70000;
    CHECK_EQ(otakit_boot_select(&cfg, &d->boot), OTAKIT_OK);
    cfg.flash_size = 0x1000000; /* a header larger than the chip: the table passes */
    CHECK_EQ(otakit_boot_select(&cfg, &d->boot), OTAKIT_OK);
    fx_dev_free(d);
}

/* Anti-rollback on, eFuse 0, the factory app (secure_version 0), ota_0 and ota_1 with
 * the given secure versions (v[i], len[i]: their images), both copies VALID, ota_1 newest. */
static fx_dev_t *arb_dev(uint32_t sv0, uint32_t sv1, uint8_t *v[2], size_t len[2])
{
    fx_dev_t *d = fx_dev_new(0x400000, true, 2, SLOT);
    const uint32_t sv[2] = {sv0, sv1};
    fx_flash_image(d, d->factory, img[0], img_len[0]);
    for (unsigned i = 0; i < 2; i++) {
        char ver[8];
        snprintf(ver, sizeof(ver), "v%u", (unsigned)sv[i]);
        v[i] = fx_image("app", ver, sv[i], 4000, 20 + sv[i], &len[i]);
        fx_flash_image(d, fx_slot(d, i), v[i], len[i]);
    }
    d->ota.anti_rollback = true;
    put_copy(d, 0, 1, OTAKIT_OTA_IMG_VALID);
    put_copy(d, 1, 2, OTAKIT_OTA_IMG_VALID);
    d->efuse = 0;
    return d;
}

static void test_anti_rollback_boot(void)
{
    uint8_t *v[2];
    size_t len[2];
    fx_dev_t *d = arb_dev(1, 2, v, len);
    CHECK_STR(booted(d), "ota_1");
    CHECK_EQ(d->efuse, 2); /* a VALID active app raises the counter */
    otakit_flash_erase(d->flash, d->otadata->offset + 0x1000, 0x1000);
    /* Copy 0 selects ota_0 (secure_version 1 < 2): not usable; the fallback refuses the
     * factory app (0 < 2) and ota_0, and lands on ota_1, the only app allowed to run. */
    CHECK_STR(booted(d), "ota_1");
    free(v[0]);
    free(v[1]);
    fx_dev_free(d);
}

/* The eFuse counter rises only from an image that loaded and verified: a VALID copy that
 * selects a corrupt image (its description still readable, secure_version 5) falls back
 * to ota_0 (secure_version 1), which is not the confirmed selection, and leaves the
 * counter at 0; raised from the description before the verification, it would be 5 and
 * refuse ota_0 (and the factory app) on every later boot. */
static void test_anti_rollback_raise_after_verify(void)
{
    uint8_t *v[2];
    size_t len[2];
    fx_dev_t *d = arb_dev(1, 5, v, len);
    size_t at = len[1] / 2; /* a byte of the program: the image no longer verifies */
    while (v[1][at] == 0) {
        at++;
    }
    uint8_t z = 0;
    CHECK_EQ(otakit_flash_write(d->flash, fx_slot(d, 1)->offset + (uint32_t)at, &z, 1), OTAKIT_OK);
    otakit_app_desc_t desc;
    CHECK_EQ(otakit_image_read_desc(d->flash, fx_slot(d, 1)->offset, &desc), OTAKIT_OK);
    CHECK_EQ(desc.secure_version, 5);
    CHECK_STR(booted(d), "ota_0"); /* ota_1 fails verification: fall back */
    CHECK_EQ(d->efuse, 0);
    CHECK_STR(booted(d), "ota_0"); /* and it keeps booting */
    /* Once ota_1 holds a good image, it boots and raises the counter. */
    fx_flash_image(d, fx_slot(d, 1), v[1], len[1]);
    CHECK_STR(booted(d), "ota_1");
    CHECK_EQ(d->efuse, 5);
    free(v[0]);
    free(v[1]);
    fx_dev_free(d);
}

static char last_error[256];

static void capture_errors(void *ctx, otakit_log_level_t level, const char *tag, const char *fmt,
                           va_list ap)
{
    (void)ctx;
    (void)tag;
    if (level == OTAKIT_LOG_ERROR) {
        vsnprintf(last_error, sizeof(last_error), fmt, ap);
    }
}

static otakit_err_t raise_fails(void *ctx, uint32_t v)
{
    (void)ctx;
    (void)v;
    return OTAKIT_ERR_FLASH_OP_FAIL;
}

/* A raise that fails is reported and does not stop the boot (the app is valid; the next
 * boot raises again); the rule itself: efuse NULL (anti-rollback off) allows all. */
static void test_anti_rollback_raise_failure(void)
{
    fx_dev_t *d = fx_dev_new(0x400000, true, 2, SLOT);
    size_t l2;
    uint8_t *v2 = fx_image("app", "v2", 2, 4000, 22, &l2);
    fx_flash_image(d, d->factory, img[0], img_len[0]);
    fx_flash_image(d, fx_slot(d, 1), v2, l2);
    d->ota.anti_rollback = true;
    put_copy(d, 1, 2, OTAKIT_OTA_IMG_VALID);
    d->efuse = 1;
    d->efuse_if.raise = raise_fails;
    d->ota.log.fn = capture_errors;
    last_error[0] = '\0';
    CHECK_STR(booted(d), "ota_1");
    CHECK_EQ(d->efuse, 1);
    CHECK(strstr(last_error, "Failed to raise the eFuse secure version to 2") != NULL);
    CHECK(strstr(last_error, "ESP_ERR_FLASH_OP_FAIL") != NULL);

    CHECK(otakit_efuse_allows(NULL, 0));
    CHECK(otakit_efuse_allows(&d->efuse_if, 1));
    CHECK(!otakit_efuse_allows(&d->efuse_if, 0));
    CHECK(otakit_efuse_rule(false, &d->efuse_if) == NULL);
    CHECK_EQ(otakit_efuse_raise_to(NULL, 9), OTAKIT_OK);
    CHECK_EQ(otakit_efuse_raise_to(&d->efuse_if, 1), OTAKIT_OK); /* nothing to raise */
    CHECK_EQ(otakit_efuse_raise_to(&d->efuse_if, 3), OTAKIT_ERR_FLASH_OP_FAIL);
    free(v2);
    fx_dev_free(d);
}

int main(void)
{
    for (int i = 0; i < 16; i++) {
        char ver[16];
        snprintf(ver, sizeof(ver), "v%d", i);
        img[i] = fx_image(i == 15 ? "factory" : "app", ver, 0, 3000 + (size_t)i * 100,
                          (uint32_t)i + 100, &img_len[i]);
    }
    RUN(test_erased_boots_factory);
    RUN(test_seq5_two_slots);
    RUN(test_tie_goes_to_copy0);
    RUN(test_one_bad_crc);
    RUN(test_both_bad_crc_falls_back_to_factory);
    RUN(test_aborted_and_invalid);
    RUN(test_three_and_sixteen_slots);
    RUN(test_rollback_transitions);
    RUN(test_boot_attempts);
    RUN(test_boot_attempts_decision);
    RUN(test_fallback_through_slots);
    RUN(test_no_factory_initial_contents);
    RUN(test_dry_run_changes_nothing);
    RUN(test_factory_reset_and_test_pin);
    RUN(test_bad_table);
    RUN(test_table_against_header_flash_size);
    RUN(test_anti_rollback_boot);
    RUN(test_anti_rollback_raise_after_verify);
    RUN(test_anti_rollback_raise_failure);
    for (int i = 0; i < 16; i++) {
        free(img[i]);
    }
    return harness_done();
}
