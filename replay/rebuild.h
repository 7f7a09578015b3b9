// Rebuilding every projection from the log alone, verifying the chain as it goes.
//
//   RebuildReport r = RebuildProjections(log, {});
//   if (r.verify.valid && r.digest == stored_digest) ...   // the projections are sound
//
// The rebuild runs a fresh Domain and Projections in memory over the verified entries, so it
// needs nothing but a LogSource: the live store, or an exported bundle. An entry that cannot
// be applied (the domain refuses it, or a sum would overflow 64 bits: an imported log) makes
// the report invalid at that entry, like a broken chain.
#pragma once

#include <map>
#include <optional>

#include "projections/projections.h"
#include "replay/chain_verifier.h"
#include "replay/snapshot.h"

namespace fundledger {

struct RebuildReport {
  VerifyReport verify;
  uint64_t snapshot_size = 0;  // entries taken from the snapshot
  uint64_t applied = 0;        // entries applied to the projections
  Hash digest{};
  uint64_t rows = 0;
  std::map<std::string, Balance> fund_balances;  // "fund/<id>/<bucket>" -> balance
  int64_t sum_of_balances = 0;  // zero when double entry holds (summed through Amount)
};

struct RebuildOptions {
  std::optional<uint64_t>
      to_index;  // apply entries 0..to_index only (the chain is still verified whole)
  std::optional<NoteVerifier> trusted_key;
  std::function<void(uint64_t)> progress;
  // Start from this snapshot (checked against the log) and replay only the tail.
  std::string snapshot_path;
  // Rows written as they are rebuilt (to repair a store); null: memory only.
  KeyValueSink* sink = nullptr;
};

RebuildReport RebuildProjections(const LogSource& source, const RebuildOptions& options);

}  // namespace fundledger
