// ChainVerifier: walks a whole log and checks everything an auditor relies on.
//
// For each entry i: the FlatBuffers structure of the entry and of its payload (enum numbers
// within the schema's values included), the recorded index, the prev-hash chain,
// non-decreasing timestamps, and (entry 0) a Genesis naming the origin and key; the leaf hash
// and every tree node it completes against the stored tree; each signed checkpoint against
// the key and against the root recomputed from the entries. It names the first entry (or
// checkpoint) at fault and why. From entry 0 it also checks every entry's signature against the
// actor keys registered before it (ledger/actor_keys.h): an entry written by anyone without its
// actor's key (e.g. with the data directory alone) fails there, naming its index.
//
// Without on_entry, the log is checked in chunks of 2^chunk_log2 entries on several threads:
// each chunk's entries build their own subtree (chunks are aligned, so its nodes are the
// log's), and the chunks are joined in order: their subtrees into the tree above them, their
// checkpoints' roots with the tree before them. The verdict, the entry named and the reason
// are those of checking one entry after another.
//
//   VerifyReport r = VerifyChain(log, {});
//   if (!r.valid) fmt::print("entry {}: {}\n", r.bad_index, r.reason);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  // Verifies entries before `end` only (a scrub's window): checkpoints past it are not
  // checked, and none need cover the window.
  uint64_t end = UINT64_MAX;
  // Called for each entry after it verified, in order (replay builds state with it), with the
  // very bytes that passed DecodeEntry and VerifyPayload (Domain::ApplyVerified relies on it).
  // An error stops the walk and is reported at that entry.
  std::function<Status(uint64_t, ByteView)> on_entry;
  // Threads that check chunks when there is no on_entry; 0: one per core. 1 also walks in
  // order on the calling thread alone (reading, hashing and checking each entry in turn): the
  // least CPU, for a caller that shares its cores (a paced scrub, a cluster follower).
  unsigned threads = 0;
  // Entries per chunk, as a power of two. Chunks stream their entries; what waits to be
  // joined is a few hashes per chunk and per checkpoint inside it.
  uint8_t chunk_log2 = 16;
  // Checks every entry's signature against the actor keys registered before it (from entry 0
  // only: a walk that resumes later has no keys to check against).
  bool check_signatures = true;
  // Hands back the leaf hash the walk computed for each entry it checked (VerifyReport::
  // leaf_hashes), so that a caller storing these entries (a cluster follower's
  // Ledger::ApplyReplicated) need not hash them again. The walk then goes in order, as with
  // on_entry.
  bool keep_leaf_hashes = false;
};

struct VerifyReport {
  bool valid = false;
  bool unusable = false;     // the source could not be read at all (not a verdict on the log)
  uint64_t bad_index = 0;    // the first entry at fault, when !valid
  std::string reason;        // what is wrong there, for a person
  uint64_t size = 0;         // entries verified (when !valid: those before bad_index)
  Hash root{};               // root of the verified entries, when valid
  uint64_t checkpoints = 0;  // signed checkpoints checked
  uint64_t latest_checkpoint_size = 0;
  std::string origin;
  std::string vkey;
  uint64_t signed_commands = 0;                   // commands whose signature verified
  std::optional<uint64_t> signing_required_from;  // the first entry that had to be signed
  // With keep_leaf_hashes: HashLeaf of each entry from `begin`, in order, as the walk checked
  // it against the chain and the signed roots. When valid, one per entry verified; when not,
  // at most those before bad_index.
  std::vector<Hash> leaf_hashes;
};

VerifyReport VerifyChain(const LogSource& source, const VerifyOptions& options);

}  // namespace fundledger
