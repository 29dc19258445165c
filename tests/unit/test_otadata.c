#include "harness.h"
#include "otakit/otadata.h"

/* spec §5.4 table */
static void test_crc_table(void)
{
    static const struct {
        uint32_t seq, crc;
    } t[] = {{0, 0xFFFFFFFF}, {1, 0x4743989A}, {2, 0x55F63774},  {3, 0xED4A5011},
             {4, 0x709D68A8}, {5, 0xC8210FCD}, {6, 0xDA94A023},  {7, 0x6228C746},
             {8, 0x3A4BD710}, {9, 0x82F7B075}, {10, 0x90421F9B}, {0xFFFFFFFF, 0x2144DF1C}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        CHECK_EQ(otakit_otadata_crc(t[i].seq), t[i].crc);
    }
}

static void fill(uint8_t *b, uint8_t v, size_t n)
{
    memset(b, v, n);
}

/* spec §5.4 worked entries */
static void test_worked_entries(void)
{
    uint8_t want[32], got[32];
    otakit_otadata_entry_t e;

    fill(want, 0xFF, 32);
    want[0] = 1, want[1] = want[2] = want[3] = 0;
    want[28] = 0x9A, want[29] = 0x98, want[30] = 0x43, want[31] = 0x47;
    otakit_otadata_make(&e, 1, OTAKIT_OTA_IMG_UNDEFINED);
    otakit_otadata_encode(&e, got);
    CHECK_MEM(got, want, 32);

    want[24] = want[25] = want[26] = want[27] = 0; /* NEW */
    otakit_otadata_make(&e, 1, OTAKIT_OTA_IMG_NEW);
    otakit_otadata_encode(&e, got);
    CHECK_MEM(got, want, 32);

    want[24] = 2; /* the bootloader's fix-up for ota_0: VALID */
    otakit_otadata_make(&e, 1, OTAKIT_OTA_IMG_VALID);
    otakit_otadata_encode(&e, got);
    CHECK_MEM(got, want, 32);

    fill(want, 0xFF, 32);
    want[0] = 2, want[1] = want[2] = want[3] = 0;
    want[24] = 1, want[25] = want[26] = want[27] = 0;
    want[28] = 0x74, want[29] = 0x37, want[30] = 0xF6, want[31] = 0x55;
    otakit_otadata_make(&e, 2, OTAKIT_OTA_IMG_PENDING_VERIFY);
    otakit_otadata_encode(&e, got);
    CHECK_MEM(got, want, 32);

    otakit_otadata_entry_t d;
    otakit_otadata_decode(&d, want);
    CHECK_EQ(d.seq, 2);
    CHECK_EQ(d.state, OTAKIT_OTA_IMG_PENDING_VERIFY);
    CHECK_EQ(d.crc, 0x55F63774);
    CHECK(otakit_otadata_is_valid(&d));
}

static void test_validity(void)
{
    uint8_t erased[32];
    fill(erased, 0xFF, 32);
    otakit_otadata_entry_t e;
    otakit_otadata_decode(&e, erased);
    CHECK(otakit_otadata_is_invalid(&e));
    CHECK(!otakit_otadata_is_valid(&e));
    CHECK(!otakit_otadata_crc_ok(&e));

    otakit_otadata_make(&e, 3, OTAKIT_OTA_IMG_VALID);
    CHECK(otakit_otadata_is_valid(&e));
    e.crc ^= 1;
    CHECK(!otakit_otadata_is_valid(&e));
    CHECK(!otakit_otadata_is_invalid(&e)); /* invalid() ignores the CRC, as the bootloader's */
    otakit_otadata_make(&e, 3, OTAKIT_OTA_IMG_ABORTED);
    CHECK(otakit_otadata_is_invalid(&e));
    CHECK(otakit_otadata_crc_ok(&e));
    otakit_otadata_make(&e, 3, OTAKIT_OTA_IMG_INVALID);
    CHECK(!otakit_otadata_is_valid(&e));
    /* The seq-0 oddity: bytes 0-3 zero, rest erased, passes the CRC test. */
    erased[0] = erased[1] = erased[2] = erased[3] = 0;
    otakit_otadata_decode(&e, erased);
    CHECK(otakit_otadata_is_valid(&e));
}

static void test_active(void)
{
    otakit_otadata_entry_t e[2];
    otakit_otadata_make(&e[0], 4, OTAKIT_OTA_IMG_UNDEFINED);
    otakit_otadata_make(&e[1], 5, OTAKIT_OTA_IMG_UNDEFINED);
    CHECK_EQ(otakit_otadata_active(e), 1);
    otakit_otadata_make(&e[1], 4, OTAKIT_OTA_IMG_VALID);
    CHECK_EQ(otakit_otadata_active(e), 0); /* tie -> copy 0 */
    e[0].crc = 0;
    CHECK_EQ(otakit_otadata_active(e), 1); /* one bad CRC */
    otakit_otadata_make(&e[1], 9, OTAKIT_OTA_IMG_ABORTED);
    CHECK_EQ(otakit_otadata_active(e), -1);
    otakit_otadata_make(&e[0], 2, OTAKIT_OTA_IMG_NEW);
    CHECK_EQ(otakit_otadata_active(e), 0);
}

static void test_slot_and_next_seq(void)
{
    CHECK_EQ(otakit_otadata_slot(1, 2), 0);
    CHECK_EQ(otakit_otadata_slot(2, 2), 1);
    CHECK_EQ(otakit_otadata_slot(5, 2), 0);
    CHECK_EQ(otakit_otadata_slot(5, 3), 1);
    CHECK_EQ(otakit_otadata_slot(16, 16), 15);
    CHECK_EQ(otakit_otadata_slot(0, 2), 1); /* (0 - 1) mod 2 in u32 */
    /* spec §5.6 examples */
    CHECK_EQ(otakit_otadata_next_seq(true, 1, 1, 2), 2);
    CHECK_EQ(otakit_otadata_next_seq(true, 2, 0, 2), 3);
    CHECK_EQ(otakit_otadata_next_seq(true, 3, 1, 2), 4);
    CHECK_EQ(otakit_otadata_next_seq(true, 2, 1, 2), 2); /* same slot */
    CHECK_EQ(otakit_otadata_next_seq(true, 5, 0, 3), 7);
    CHECK_EQ(otakit_otadata_next_seq(true, 5, 1, 3), 5);
    CHECK_EQ(otakit_otadata_next_seq(true, 5, 2, 3), 6);
    CHECK_EQ(otakit_otadata_next_seq(false, 0, 0, 2), 1);
    CHECK_EQ(otakit_otadata_next_seq(false, 0, 1, 2), 2);
    CHECK_EQ(otakit_otadata_next_seq(false, 0, 15, 16), 16);
    /* Brute force against ESP-IDF's loop for small n. */
    for (unsigned n = 1; n <= 16; n++) {
        for (unsigned t = 0; t < n; t++) {
            for (uint32_t s = 0; s < 70; s++) {
                uint32_t i = 0;
                while (s > (t + 1) % n + i * n) {
                    i++;
                }
                uint32_t want = (t + 1) % n + i * n;
                CHECK_EQ(otakit_otadata_next_seq(true, s, t, n), want);
                if (want != 0) {
                    CHECK_EQ(otakit_otadata_slot(want, n), t);
                }
            }
        }
    }
}

static void test_state_names(void)
{
    CHECK_STR(otakit_otadata_state_name(0), "NEW");
    CHECK_STR(otakit_otadata_state_name(1), "PENDING_VERIFY");
    CHECK_STR(otakit_otadata_state_name(2), "VALID");
    CHECK_STR(otakit_otadata_state_name(3), "INVALID");
    CHECK_STR(otakit_otadata_state_name(4), "ABORTED");
    CHECK_STR(otakit_otadata_state_name(0xFFFFFFFF), "UNDEFINED");
    CHECK_STR(otakit_otadata_state_name(7), "UNKNOWN");
}

int main(void)
{
    RUN(test_crc_table);
    RUN(test_worked_entries);
    RUN(test_validity);
    RUN(test_active);
    RUN(test_slot_and_next_seq);
    RUN(test_state_names);
    return harness_done();
}
