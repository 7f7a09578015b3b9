// ChainVerifier: walks a whole log and checks everything an auditor relies on.
//
// For each entry i, in order: the FlatBuffers structure, the recorded index, the prev-hash
// chain, non-decreasing timestamps, and (entry 0) a Genesis naming the origin and key; the
// leaf hash and every tree node it completes against the stored tree; each signed
// checkpoint against the key and against the root recomputed from the entries. It stops at
// the first problem and names the entry (or checkpoint) and why.
//
//   VerifyReport r = VerifyChain(log, {});
//   if (!r.valid) fmt::print("entry {}: {}\n", r.bad_index, r.reason);
#pragma once

#include <optional>
#include <string>

#include "crypto/note.h"
#include "ledger/log_source.h"

namespace fundledger {

struct VerifyOptions {
  // Checks the genesis key against this key instead of trusting the log's own genesis.
  std::optional<NoteVerifier> trusted_key;
  // Compares every recomputed tree node with the stored one (catches a tampered tree).
  bool check_stored_tree = true;
  // Called every `progress_every` entries with the number verified so far.
  std::function<void(uint64_t)> progress;
  uint64_t progress_every = 1'000'000;
  // Verifies entries [begin, size) only, continuing from the stored leaf hash and tree at
  // begin (after a snapshot, or a bundle that starts later); the key is trusted_key if set,
  // else read from the genesis entry.
  uint64_t begin = 0;
  // Called for each entry after it verified, in order (replay builds state with it). An
  // error stops the walk and is reported at that entry.
  std::function<Status(uint64_t, ByteView)> on_entry;
};

struct VerifyReport {
  bool valid = false;
  bool unusable = false;      // the source could not be read at all (not a verdict on the log)
  uint64_t bad_index = 0;     // the first entry at fault, when !valid
  std::string reason;         // what is wrong there, for a person
  uint64_t size = 0;          // entries verified
  Hash root{};                // root of the verified entries
  uint64_t checkpoints = 0;   // signed checkpoints checked
  uint64_t latest_checkpoint_size = 0;
  std::string origin;
  std::string vkey;
};

VerifyReport VerifyChain(const LogSource& source, const VerifyOptions& options);

}  // namespace fundledger
