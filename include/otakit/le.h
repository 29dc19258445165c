/**
 * @file le.h
 * @brief Little-endian field access: every on-flash field is decoded and encoded
 * through these, never by casting flash bytes to a struct. Public so that host code
 * that builds or inspects ESP formats (src/host/image_build.c, tests) uses the same.
 */
#ifndef OTAKIT_LE_H
#define OTAKIT_LE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline uint16_t otakit_le16_get(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t otakit_le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void otakit_le16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void otakit_le32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#ifdef __cplusplus
}
#endif
#endif
