// JSON views of log entries and proofs, shared by the CLI and the HTTP API so both print
// exactly the same shapes.
//
//   {"index": 3, "timestamp_ms": ..., "timestamp": "2026-11-22T23:10:00.123Z", "actor": ...,
//    "role": ..., "idempotency_key": ..., "event_type": "Genesis", "prev_leaf_hash": hex,
//    "leaf_hash": hex, "payload": {...}, "raw": base64 of the stored bytes}
#pragma once

#include <boost/json.hpp>
#include <span>

#include "crypto/sha256.h"
#include "ledger/log.h"

namespace fundledger {

Result<boost::json::object> EntryToJson(uint64_t index, ByteView stored_bytes);
boost::json::object InclusionProofJson(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                       std::span<const Hash> proof, const Hash& root);
boost::json::object ConsistencyProofJson(uint64_t old_size, uint64_t size,
                                         std::span<const Hash> proof, const Hash& old_root,
                                         const Hash& root);
// The proof read from `log`, with the leaf hash and roots it is checked against.
Result<boost::json::object> ReadInclusionProof(const Log& log, uint64_t index, uint64_t size);
Result<boost::json::object> ReadConsistencyProof(const Log& log, uint64_t old_size, uint64_t size);
// Pretty JSON with two-space indentation and a final newline.
std::string PrettyJson(const boost::json::value& value);

}  // namespace fundledger
