/*
 * value.h - the bytes the client writes: key names, and values that name
 * the write that produced them (run tag, key, per-key write number) padded
 * with a pattern derived from them, so a read tells which write it saw.
 */
#ifndef VSMR_CLIENT_VALUE_H
#define VSMR_CLIENT_VALUE_H

#include <stddef.h>
#include <stdint.h>

#define VALUE_MIN_SIZE 40u      /* room for the longest header */
#define VALUE_MAX_SIZE 2048u    /* VSMR_SIM_MAX_VALUE */
#define KEY_MAX_SIZE   24u      /* VSMR_SIM_MAX_KEY */

/* Writes key's name ("c<tag>-<key>") into buf[KEY_MAX_SIZE]; returns its
 * length. */
size_t value_key_name(char *buf, uint32_t tag, uint32_t key);
/* Fills buf[size] (VALUE_MIN_SIZE..VALUE_MAX_SIZE) with write n's value. */
void value_encode(uint8_t *buf, size_t size, uint32_t tag, uint32_t key,
                  uint64_t n);
/* Which write of key produced these bytes: its number, or 0 if they are
 * not exactly a value of `size` bytes this run wrote to this key. */
uint64_t value_decode(const uint8_t *buf, size_t len, size_t size,
                      uint32_t tag, uint32_t key);

#endif
