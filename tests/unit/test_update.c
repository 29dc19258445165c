#include "fixture.h"
#include "harness.h"

#define SLOT 0x40000u
#define FLASH 0x200000u

static uint8_t *img_a, *img_b, *img_c;
static size_t len_a, len_b, len_c;

static void make_images(void)
{
    img_a = fx_image("app", "1.0", 0, 20000, 1, &len_a);
    img_b = fx_image("app", "2.0", 0, 30000, 2, &len_b);
    img_c = fx_image("app", "3.0", 0, 9000, 3, &len_c);
}

static void read_copies(fx_dev_t *d, otakit_otadata_entry_t e[2])
{
    CHECK_EQ(otakit_otadata_read(d->flash, d->otadata, e), OTAKIT_OK);
}

static fx_dev_t *factory_dev(void)
{
    fx_dev_t *d = fx_dev_new(FLASH, true, 2, SLOT);
    fx_flash_image(d, d->factory, img_a, len_a);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == d->factory);
    return d;
}

static void test_begin_errors(void)
{
    fx_dev_t *d = factory_dev();
    otakit_update_t u;
    CHECK_EQ(otakit_update_begin(&u, &d->ota, d->factory, OTAKIT_OTA_SIZE_UNKNOWN),
             OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_update_begin(&u, &d->ota, d->otadata, OTAKIT_OTA_SIZE_UNKNOWN),
             OTAKIT_ERR_INVALID_ARG);
    otakit_part_t ghost = *fx_slot(d, 0);
    ghost.offset += 0x1000;
    CHECK_EQ(otakit_update_begin(&u, &d->ota, &ghost, OTAKIT_OTA_SIZE_UNKNOWN),
             OTAKIT_ERR_NOT_FOUND);
    /* An image larger than the slot: 0x104 at begin when the size is known. */
    CHECK_EQ(otakit_update_begin(&u, &d->ota, fx_slot(d, 0), SLOT + 1), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_update_begin(&u, &d->ota, fx_slot(d, 0), SLOT), OTAKIT_OK);
    /* Writing the running slot. */
    d->ota.running = fx_slot(d, 1);
    CHECK_EQ(otakit_update_begin(&u, &d->ota, fx_slot(d, 1), OTAKIT_OTA_SIZE_UNKNOWN),
             OTAKIT_ERR_OTA_PARTITION_CONFLICT);
    fx_dev_free(d);
}

static void test_write_errors(void)
{
    fx_dev_t *d = factory_dev();
    otakit_update_t u;
    const otakit_part_t *s0 = fx_slot(d, 0);
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, OTAKIT_OTA_SIZE_UNKNOWN), OTAKIT_OK);
    uint8_t bad[4] = {0xE8, 1, 2, 3};
    CHECK_EQ(otakit_update_write(&u, bad, sizeof(bad)), OTAKIT_ERR_OTA_VALIDATE_FAILED);
    /* The write that crosses the end gives 0x104 and writes nothing of itself. */
    uint8_t *big = malloc(SLOT);
    memset(big, 0x5A, SLOT);
    big[0] = 0xE9;
    CHECK_EQ(otakit_update_write(&u, big, SLOT - 16), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, big, 32), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_nor_data(d->nor)[s0->offset + SLOT - 16], 0xFF);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_ERR_OTA_VALIDATE_FAILED);
    free(big);
    /* end with nothing written */
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES), OTAKIT_OK);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_ERR_INVALID_ARG);
    /* end of a corrupt image (one flipped byte in the program) */
    uint8_t *bad_img = malloc(len_b);
    memcpy(bad_img, img_b, len_b);
    bad_img[0x10100] ^= 0x01;
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, (uint32_t)len_b), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, bad_img, len_b), OTAKIT_OK);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_ERR_OTA_VALIDATE_FAILED);
    CHECK_EQ(otakit_ota_set_boot(&d->ota, s0), OTAKIT_ERR_OTA_VALIDATE_FAILED);
    otakit_otadata_entry_t e[2];
    read_copies(d, e);
    CHECK_EQ(otakit_otadata_active(e), -1); /* otadata untouched */
    free(bad_img);
    fx_dev_free(d);
}

static void erase_count_for(uint32_t size_arg, const uint8_t *img, size_t len, bool dirty,
                            uint64_t want)
{
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0);
    if (dirty) { /* old contents in the whole slot */
        uint8_t z[256];
        memset(z, 0x00, sizeof(z));
        for (uint32_t off = 0; off < SLOT; off += sizeof(z)) {
            otakit_flash_write(d->flash, s0->offset + off, z, sizeof(z));
        }
    }
    otakit_nor_reset_stats(d->nor);
    otakit_update_t u;
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, size_arg), OTAKIT_OK);
    for (size_t off = 0; off < len; off += 1000) {
        CHECK_EQ(otakit_update_write(&u, img + off, len - off < 1000 ? len - off : 1000),
                 OTAKIT_OK);
    }
    CHECK_EQ(otakit_update_end(&u), OTAKIT_OK);
    otakit_nor_stats_t st;
    otakit_nor_get_stats(d->nor, &st);
    CHECK_EQ(st.sectors_erased, want);
    CHECK_EQ(u.sectors_erased, want);
    CHECK(fx_holds(d, s0, img, len));
    fx_dev_free(d);
}

static void test_erase_policies(void)
{
    uint64_t sectors = (len_b + 0xFFF) / 0x1000;
    erase_count_for(OTAKIT_OTA_SIZE_UNKNOWN, img_b, len_b, false, SLOT / 0x1000);
    erase_count_for((uint32_t)len_b, img_b, len_b, false, sectors);
    /* sequential: a blank slot needs no erase at all; a dirty one, only what is written */
    erase_count_for(OTAKIT_OTA_WITH_SEQUENTIAL_WRITES, img_b, len_b, false, 0);
    erase_count_for(OTAKIT_OTA_WITH_SEQUENTIAL_WRITES, img_b, len_b, true, sectors);
}

static void test_resume(void)
{
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0);
    uint8_t z[256];
    memset(z, 0, sizeof(z));
    for (uint32_t off = 0; off < SLOT; off += sizeof(z)) {
        otakit_flash_write(d->flash, s0->offset + off, z, sizeof(z));
    }
    otakit_update_t u;
    size_t half = 0x9C40; /* a cut mid-sector */
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, img_b, half), OTAKIT_OK);
    otakit_update_abort(&u);
    uint32_t first = u.sectors_erased;
    CHECK_EQ(first, (half + 0xFFF) / 0x1000);
    /* Resume at a KiB boundary below the progress, as ESP-IDF's resumption does. */
    uint32_t at = (uint32_t)(half / 1024 * 1024);
    CHECK_EQ(otakit_update_resume(&u, &d->ota, s0, OTAKIT_ERASE_SEQUENTIAL, 0, at), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, img_b + at, len_b - at), OTAKIT_OK);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_OK);
    CHECK_EQ(first + u.sectors_erased, (len_b + 0xFFF) / 0x1000); /* nothing erased twice */
    CHECK(fx_holds(d, s0, img_b, len_b));
    CHECK_EQ(otakit_update_resume(&u, &d->ota, s0, OTAKIT_ERASE_SEQUENTIAL, 0, SLOT + 1),
             OTAKIT_ERR_INVALID_ARG);
    fx_dev_free(d);
}

/* --- one read, one hash per byte --------------------------------------------------- */

static uint64_t bytes_read(fx_dev_t *d)
{
    otakit_nor_stats_t st;
    otakit_nor_get_stats(d->nor, &st);
    return st.bytes_read;
}

/* A whole-slot session (no blank checks) writing img in 1 KiB chunks; returns the bytes
 * the writes read back. */
static uint64_t write_image(fx_dev_t *d, otakit_update_t *u, const otakit_part_t *slot,
                            const uint8_t *img, size_t len)
{
    CHECK_EQ(otakit_update_begin(u, &d->ota, slot, OTAKIT_OTA_SIZE_UNKNOWN), OTAKIT_OK);
    uint64_t r0 = bytes_read(d);
    for (size_t off = 0; off < len; off += 1024) {
        CHECK_EQ(otakit_update_write(u, img + off, len - off < 1024 ? len - off : 1024), OTAKIT_OK);
    }
    return bytes_read(d) - r0;
}

static void test_set_boot_trusts_the_session(void)
{
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0);
    otakit_update_t u;
    /* Each byte is read back once, by the write that wrote it ... */
    CHECK_EQ(write_image(d, &u, s0, img_b, len_b), len_b);
    /* ... so end reads nothing: the verifier has seen what flash holds. */
    uint64_t r = bytes_read(d);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_OK);
    CHECK_EQ(bytes_read(d) - r, 0);
    CHECK(u.proof.valid);
    CHECK_EQ(u.proof.part_offset, s0->offset);
    CHECK_EQ(u.proof.image_len, len_b);
    /* set_boot with the session's proof reads otadata only, not the slot. */
    r = bytes_read(d);
    CHECK_EQ(otakit_ota_set_boot_verified(&d->ota, s0, &u.proof), OTAKIT_OK);
    uint64_t trusted = bytes_read(d) - r;
    CHECK(trusted < 256);
    CHECK(otakit_ota_get_boot(&d->ota) == s0);
    /* set_boot alone (ESP-IDF's behaviour) verifies the whole image again. */
    r = bytes_read(d);
    CHECK_EQ(otakit_ota_set_boot(&d->ota, s0), OTAKIT_OK);
    CHECK(bytes_read(d) - r >= len_b + trusted);
    /* A proof is for its slot only. */
    const otakit_part_t *s1 = fx_slot(d, 1);
    fx_flash_image(d, s1, img_c, len_c);
    otakit_update_t v;
    CHECK_EQ(write_image(d, &v, s0, img_b, len_b), len_b);
    CHECK_EQ(otakit_update_end(&v), OTAKIT_OK);
    r = bytes_read(d);
    CHECK_EQ(otakit_ota_set_boot_verified(&d->ota, s1, &v.proof), OTAKIT_OK);
    CHECK(bytes_read(d) - r >= len_c);
    fx_dev_free(d);
}

static void test_set_boot_verifies_a_slot_changed_after_end(void)
{
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0);
    otakit_update_t u;
    write_image(d, &u, s0, img_b, len_b);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_OK);
    /* One byte of the program is cleared after end: the proof no longer holds. */
    uint8_t z = 0;
    CHECK_EQ(otakit_flash_write(d->flash, s0->offset + 0x10100, &z, 1), OTAKIT_OK);
    uint64_t r = bytes_read(d);
    CHECK_EQ(otakit_ota_set_boot_verified(&d->ota, s0, &u.proof), OTAKIT_ERR_OTA_VALIDATE_FAILED);
    CHECK(bytes_read(d) - r >= len_b); /* read and hashed again, and refused */
    otakit_otadata_entry_t e[2];
    read_copies(d, e);
    CHECK_EQ(otakit_otadata_active(e), -1); /* otadata untouched */
    /* A write anywhere else also makes set_boot verify again (it cannot tell where). */
    write_image(d, &u, s0, img_b, len_b);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_OK);
    CHECK_EQ(otakit_flash_write(d->flash, fx_slot(d, 1)->offset, &z, 1), OTAKIT_OK);
    r = bytes_read(d);
    CHECK_EQ(otakit_ota_set_boot_verified(&d->ota, s0, &u.proof), OTAKIT_OK);
    CHECK(bytes_read(d) - r >= len_b);
    fx_dev_free(d);
}

static void test_end_verifies_from_flash_when_streaming_stopped(void)
{
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0);
    otakit_update_t u;
    /* Someone else writes the flash mid-session: end reads the image back once. */
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, OTAKIT_OTA_SIZE_UNKNOWN), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, img_b, 4096), OTAKIT_OK);
    uint8_t z = 0;
    CHECK_EQ(otakit_flash_write(d->flash, fx_slot(d, 1)->offset, &z, 1), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, img_b + 4096, len_b - 4096), OTAKIT_OK);
    uint64_t r = bytes_read(d);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_OK);
    CHECK(bytes_read(d) - r >= len_b);
    /* A write whose read-back differs fails and is not counted; retried, it goes on. */
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, OTAKIT_OTA_SIZE_UNKNOWN), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, img_b, 4096), OTAKIT_OK);
    otakit_nor_bitrot(d->nor, s0->offset + 4096 + 100, 1, 0x10);
    CHECK_EQ(otakit_update_write(&u, img_b + 4096, 4096), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK_EQ(u.written, 4096);
    otakit_nor_bitrot(d->nor, 0, 0, 0);
    CHECK_EQ(otakit_update_write(&u, img_b + 4096, len_b - 4096), OTAKIT_OK);
    CHECK_EQ(otakit_update_end(&u), OTAKIT_OK);
    CHECK(fx_holds(d, s0, img_b, len_b));
    /* The image is what the session wrote: a truncated upload is not completed by the
     * tail of the same image left in the slot by an earlier update. */
    size_t cut = (len_b - 1) & ~(size_t)0xFFF; /* a sector boundary: what follows is intact */
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s0, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES), OTAKIT_OK);
    CHECK_EQ(otakit_update_write(&u, img_b, cut), OTAKIT_OK);
    CHECK(fx_holds(d, s0, img_b, len_b));
    CHECK_EQ(otakit_update_end(&u), OTAKIT_ERR_OTA_VALIDATE_FAILED);
    CHECK(!u.proof.valid);
    fx_dev_free(d);
}

static void test_switch_progression(void)
{
    /* spec §14: factory -> copy0 {1} -> ota_0 -> copy1 {2} -> ota_1 -> copy0 {3} ... */
    fx_dev_t *d = factory_dev();
    const uint8_t *imgs[2] = {img_b, img_c};
    size_t lens[2] = {len_b, len_c};
    for (uint32_t k = 1; k <= 4; k++) {
        const otakit_part_t *next = otakit_ota_next_update(&d->ota, NULL);
        CHECK(next == fx_slot(d, (k - 1) % 2));
        CHECK_EQ(
            fx_update(d, next, imgs[k % 2], lens[k % 2], OTAKIT_OTA_WITH_SEQUENTIAL_WRITES, 4096),
            OTAKIT_OK);
        otakit_otadata_entry_t e[2];
        read_copies(d, e);
        int copy = (int)((k - 1) % 2);
        CHECK_EQ(e[copy].seq, k);
        CHECK_EQ(e[copy].state, OTAKIT_OTA_IMG_UNDEFINED);
        CHECK(otakit_ota_get_boot(&d->ota) == next);
        CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
        CHECK(d->ota.running == next);
    }
    fx_dev_free(d);
}

static void test_same_slot_reselect(void)
{
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0), *s1 = fx_slot(d, 1);
    CHECK_EQ(fx_update(d, s0, img_b, len_b, OTAKIT_OTA_SIZE_UNKNOWN, 1024), OTAKIT_OK);
    CHECK_EQ(fx_update(d, s1, img_c, len_c, OTAKIT_OTA_SIZE_UNKNOWN, 1024), OTAKIT_OK);
    otakit_otadata_entry_t e[2];
    read_copies(d, e);
    CHECK_EQ(e[0].seq, 1);
    CHECK_EQ(e[1].seq, 2);
    /* set ota_1 again: the inactive copy gets seq + 2 (same slot), the active one stays */
    CHECK_EQ(otakit_ota_set_boot(&d->ota, s1), OTAKIT_OK);
    read_copies(d, e);
    CHECK_EQ(e[0].seq, 4);
    CHECK_EQ(e[1].seq, 2);
    CHECK(otakit_ota_get_boot(&d->ota) == s1);
    /* back to factory: otadata erased */
    CHECK_EQ(otakit_ota_set_boot(&d->ota, d->factory), OTAKIT_OK);
    read_copies(d, e);
    CHECK_EQ(e[0].seq, 0xFFFFFFFFu);
    CHECK_EQ(e[1].seq, 0xFFFFFFFFu);
    CHECK(otakit_ota_get_boot(&d->ota) == d->factory);
    fx_dev_free(d);
}

static void test_rollback_cycle(void)
{
    fx_dev_t *d = factory_dev();
    d->ota.rollback = true;
    const otakit_part_t *s0 = fx_slot(d, 0), *s1 = fx_slot(d, 1);
    CHECK_EQ(fx_update(d, s0, img_b, len_b, OTAKIT_OTA_SIZE_UNKNOWN, 1024), OTAKIT_OK);
    uint32_t st = 0;
    CHECK_EQ(otakit_ota_get_state(&d->ota, s0, &st), OTAKIT_OK);
    CHECK_EQ(st, OTAKIT_OTA_IMG_NEW);
    CHECK_EQ(otakit_ota_get_state(&d->ota, d->factory, &st), OTAKIT_ERR_NOT_SUPPORTED);
    CHECK_EQ(otakit_ota_get_state(&d->ota, s1, &st), OTAKIT_ERR_NOT_FOUND);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s0);
    CHECK_EQ(otakit_ota_get_state(&d->ota, s0, &st), OTAKIT_OK);
    CHECK_EQ(st, OTAKIT_OTA_IMG_PENDING_VERIFY);
    /* No update while the running app is unconfirmed. */
    otakit_update_t u;
    CHECK_EQ(otakit_update_begin(&u, &d->ota, s1, OTAKIT_OTA_SIZE_UNKNOWN),
             OTAKIT_ERR_OTA_ROLLBACK_INVALID_STATE);
    CHECK(otakit_ota_rollback_possible(&d->ota)); /* factory verifies */
    CHECK_EQ(otakit_ota_mark_valid(&d->ota), OTAKIT_OK);
    CHECK_EQ(otakit_ota_get_state(&d->ota, s0, &st), OTAKIT_OK);
    CHECK_EQ(st, OTAKIT_OTA_IMG_VALID);
    /* Next update, then the new app declares itself bad. */
    CHECK_EQ(fx_update(d, s1, img_c, len_c, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES, 1024), OTAKIT_OK);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s1);
    CHECK(otakit_ota_last_invalid(&d->ota) == NULL);
    CHECK_EQ(otakit_ota_mark_invalid(&d->ota), OTAKIT_OK);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s0);
    CHECK(otakit_ota_last_invalid(&d->ota) == s1);
    /* A new app that never confirms: PENDING_VERIFY becomes ABORTED on the next boot. */
    CHECK_EQ(fx_update(d, s1, img_b, len_b, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES, 1024), OTAKIT_OK);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s1);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s0);
    CHECK_EQ(otakit_ota_get_state(&d->ota, s1, &st), OTAKIT_OK);
    CHECK_EQ(st, OTAKIT_OTA_IMG_ABORTED);
    /* mark_valid from the factory app fails */
    CHECK_EQ(otakit_ota_set_boot(&d->ota, d->factory), OTAKIT_OK);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK_EQ(otakit_ota_mark_valid(&d->ota), OTAKIT_FAIL);
    fx_dev_free(d);
}

static void test_rollback_not_possible(void)
{
    fx_dev_t *d = fx_dev_new(FLASH, false, 2, SLOT);
    d->ota.rollback = true;
    fx_flash_image(d, fx_slot(d, 0), img_a, len_a);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE),
             OTAKIT_OK); /* blank otadata, no factory: ota_0 + fix-up */
    CHECK(d->ota.running == fx_slot(d, 0));
    CHECK(!otakit_ota_rollback_possible(&d->ota));
    CHECK_EQ(otakit_ota_mark_invalid(&d->ota), OTAKIT_ERR_OTA_ROLLBACK_FAILED);
    CHECK_EQ(otakit_ota_erase_last_boot_app(&d->ota), OTAKIT_FAIL);
    CHECK_EQ(fx_update(d, fx_slot(d, 1), img_b, len_b, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_OK);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == fx_slot(d, 1));
    CHECK(otakit_ota_rollback_possible(&d->ota));
    /* erase the last boot app (ota_0) and its otadata copy */
    CHECK_EQ(otakit_ota_erase_last_boot_app(&d->ota), OTAKIT_OK);
    int blank = 0;
    otakit_flash_is_blank(d->flash, fx_slot(d, 0)->offset, SLOT, &blank);
    CHECK(blank);
    CHECK(!otakit_ota_rollback_possible(&d->ota));
    fx_dev_free(d);
}

static void test_anti_rollback(void)
{
    fx_dev_t *d = factory_dev();
    d->ota.rollback = true;
    d->ota.anti_rollback = true;
    size_t l1, l3;
    uint8_t *v1 = fx_image("app", "sv1", 1, 5000, 7, &l1);
    uint8_t *v3 = fx_image("app", "sv3", 3, 5000, 8, &l3);
    d->efuse = 2;
    const otakit_part_t *s0 = fx_slot(d, 0);
    CHECK_EQ(fx_update(d, s0, v1, l1, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_ERR_OTA_SMALL_SEC_VER);
    int blank = 0;
    otakit_flash_is_blank(d->flash, s0->offset, SLOT, &blank);
    CHECK(blank); /* the refused app is erased */
    CHECK_EQ(fx_update(d, s0, v3, l3, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_OK);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s0);
    CHECK_EQ(d->efuse, 2);
    CHECK_EQ(otakit_ota_mark_valid(&d->ota), OTAKIT_OK);
    CHECK_EQ(d->efuse, 3); /* raised at mark-valid, never lowered */
    d->efuse_if.raise(d, 1);
    CHECK_EQ(d->efuse, 3);
    free(v1);
    free(v3);
    fx_dev_free(d);
}

static void test_fallback_never_overwrites_running_entry(void)
{
    /* ota_0 runs (copy0), ota_1 selected by copy1 but damaged: boot falls back to ota_0.
     * The next update must leave copy0 alone. */
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0), *s1 = fx_slot(d, 1);
    CHECK_EQ(fx_update(d, s0, img_b, len_b, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_OK);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK_EQ(fx_update(d, s1, img_c, len_c, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_OK);
    uint8_t z = 0;
    otakit_flash_write(d->flash, s1->offset + 0x10100, &z, 1);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s0);
    CHECK(otakit_ota_get_boot(&d->ota) == s1);
    uint8_t before[32];
    memcpy(before, otakit_nor_data(d->nor) + d->otadata->offset, 32);
    CHECK(otakit_ota_next_update(&d->ota, NULL) == s1);
    CHECK_EQ(fx_update(d, s1, img_a, len_a, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_OK);
    CHECK_MEM(otakit_nor_data(d->nor) + d->otadata->offset, before, 32);
    CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == s1);
    CHECK(fx_holds(d, s1, img_a, len_a));
    fx_dev_free(d);
}

/* Re-selecting the selected slot: a power cut at any flash operation of set_boot
 * leaves that slot selected (ESP-IDF v6's in-place rewrite would fall back to ota_0). */
static void test_reselect_is_cut_safe(void)
{
    fx_dev_t *d = factory_dev();
    const otakit_part_t *s0 = fx_slot(d, 0), *s1 = fx_slot(d, 1);
    CHECK_EQ(fx_update(d, s0, img_b, len_b, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_OK);
    CHECK_EQ(fx_update(d, s1, img_c, len_c, OTAKIT_OTA_SIZE_UNKNOWN, 4096), OTAKIT_OK);
    uint8_t *snap = malloc(FLASH);
    memcpy(snap, otakit_nor_data(d->nor), FLASH);
    otakit_nor_reset_stats(d->nor);
    CHECK_EQ(otakit_ota_set_boot(&d->ota, s1), OTAKIT_OK);
    otakit_nor_stats_t st;
    otakit_nor_get_stats(d->nor, &st);
    for (uint64_t k = 1; k <= st.ops; k++) {
        for (int mode = 0; mode < 3; mode++) {
            otakit_nor_reboot(d->nor);
            memcpy(otakit_nor_data(d->nor), snap, FLASH);
            otakit_nor_cut_at(d->nor, k, (otakit_nor_cut_mode_t)mode, (uint32_t)k);
            CHECK(otakit_ota_set_boot(&d->ota, s1) != OTAKIT_OK);
            otakit_nor_reboot(d->nor);
            CHECK_EQ(fx_boot(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
            CHECK(d->ota.running == s1);
        }
    }
    free(snap);
    fx_dev_free(d);
}

static void test_next_update(void)
{
    fx_dev_t *d = fx_dev_new(0x400000, true, 3, 0x40000);
    CHECK(otakit_ota_next_update(&d->ota, d->factory) == fx_slot(d, 0));
    CHECK(otakit_ota_next_update(&d->ota, fx_slot(d, 0)) == fx_slot(d, 1));
    CHECK(otakit_ota_next_update(&d->ota, fx_slot(d, 1)) == fx_slot(d, 2));
    CHECK(otakit_ota_next_update(&d->ota, fx_slot(d, 2)) == fx_slot(d, 0));
    fx_dev_free(d);
}

int main(void)
{
    make_images();
    RUN(test_begin_errors);
    RUN(test_write_errors);
    RUN(test_erase_policies);
    RUN(test_resume);
    RUN(test_set_boot_trusts_the_session);
    RUN(test_set_boot_verifies_a_slot_changed_after_end);
    RUN(test_end_verifies_from_flash_when_streaming_stopped);
    RUN(test_switch_progression);
    RUN(test_same_slot_reselect);
    RUN(test_rollback_cycle);
    RUN(test_rollback_not_possible);
    RUN(test_anti_rollback);
    RUN(test_fallback_never_overwrites_running_entry);
    RUN(test_reselect_is_cut_safe);
    RUN(test_next_update);
    free(img_a);
    free(img_b);
    free(img_c);
    return harness_done();
}
