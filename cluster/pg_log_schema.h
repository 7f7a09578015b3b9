// The PostgreSQL schema of the log of record, and its creation and version check.
//
// Version 1. Every table is keyed by the log (log_id), so one PostgreSQL cluster holds many
// logs (one origin per bureau or fund family): scale is by partition, never by sharing a log.
//
//   log_heads        one row per log: the compare-and-set point of every append
//     log_id          integer identity, primary key; the 4-byte key of the log in the other
//                     tables (an origin is tens of bytes, and entries number in the millions)
//     origin          text, unique: the log's checkpoint origin, how a node names its log
//     next_index      bigint: the log's size; the index the next entry gets
//     last_leaf_hash  bytea (32): leaf hash of entry next_index - 1 (32 zero bytes when empty),
//                     the prev hash the next entry must carry
//     writer_epoch    bigint: bumped by each writer that takes over; an append names its epoch,
//                     so a writer that was superseded updates no row and appends nothing
//     writer_node     text: the node holding writer_epoch, for operators and error messages
//     settled_at      timestamptz: written by SettleInDoubt, whose synchronous commit after an
//                     in-doubt group proves everything before it reached a standby
//   log_entries      the entries, append-only (triggers refuse UPDATE, DELETE, TRUNCATE)
//     log_id, idx     primary key; idx is the entry's 0-based index in its log
//     entry           bytea: the entry exactly as hashed (FlatBuffers bytes, never re-encoded);
//                     stored uncompressed (STORAGE EXTERNAL): a roll's chunk entries would
//                     compress (lz4 40.2 -> 17.6 MB for a 1M-line roll) but single posts sit
//                     under the 2 kB TOAST threshold and are never compressed; on the 2-core
//                     writer the saved WAL bytes did not measurably shorten a roll's append
//     leaf_hash       bytea (32): SHA-256(0x00 || entry); readers recompute and compare it, so
//                     a row altered in one column only is named at its index
//   log_checkpoints  signed checkpoints, append-only, each written in the transaction of the
//                    group whose size it signs
//     log_id, size    primary key; size is the tree size the checkpoint signs
//     note            text: the C2SP signed note exactly as served
//   fundledger_schema  one row: the schema version, checked on every connect
//
// The head row, the group's entries and its checkpoint are written in one transaction; a
// log's rows therefore always end at index next_index - 1 with no gap.
//
// EnsureLogSchema creates the schema in one transaction (DDL is transactional in PostgreSQL),
// serialised by a transaction-level advisory lock so that nodes starting together do not race;
// a database with a newer version is refused, as is one without the schema when `create` is
// false (a follower on a standby cannot create it).
#pragma once

#include <cstdint>
#include <string_view>

#include "cluster/pg_connection.h"

namespace fundledger {

inline constexpr int32_t kLogSchemaVersion = 1;
// Advisory lock class ids (the first int4 of the two-key form): "FLSC" and "FLWR".
inline constexpr int32_t kSchemaLockClass = 0x464C5343;
inline constexpr int32_t kWriterLockClass = 0x464C5752;
inline constexpr size_t kOriginBytesMax = 256;

// Creates the schema when `create` and it is absent; checks its version either way.
Status EnsureLogSchema(PgConnection& conn, bool create, Deadline deadline);

// The log_id of `origin`, adding its head row (an empty log) when `create` and it is absent.
Result<int32_t> EnsureLogHead(PgConnection& conn, std::string_view origin, bool create,
                              Deadline deadline);

}  // namespace fundledger
