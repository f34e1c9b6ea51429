/*
 * slot.h - Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its
 * hash tag, modulo 16384, exactly as redis's keyHashSlot() computes it.
 */
#ifndef SQ_CLUSTER_SLOT_H
#define SQ_CLUSTER_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_SLOTS 16384

/* CRC16-CCITT (XMODEM: poly 0x1021, init 0) of `len` bytes. */
uint16_t crc16(const void *buf, size_t len);

/* The slot of a key: when the key has a '{' followed later by a '}'
 * with at least one byte between them, only those bytes are hashed
 * ("{user1000}.following"); otherwise the whole key. */
unsigned key_slot(const void *key, size_t len);

#endif
