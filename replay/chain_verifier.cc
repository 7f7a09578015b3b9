#include "replay/chain_verifier.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "crypto/checkpoint.h"
#include "ledger/entry_codec.h"

namespace fundledger {
namespace {

// Internal: a failure at one index. Carried through Status so ScanEntries stops at once.
struct Failure {
  uint64_t index = 0;
  std::string reason;
};

}  // namespace

VerifyReport VerifyChain(const LogSource& source, const VerifyOptions& options) {
  VerifyReport report;
  std::optional<Failure> failure;
  auto fail = [&](uint64_t index, std::string reason) {
    failure = Failure{index, std::move(reason)};
    return Corruption("verification failed");
  };

  std::vector<std::pair<uint64_t, std::string>> checkpoints;
  Status s = source.ScanCheckpoints([&](uint64_t size, std::string_view note) {
    checkpoints.emplace_back(size, std::string(note));
    return Status::Ok();
  });
  if (!s.ok()) {
    report.unusable = true;
    report.reason = "cannot read checkpoints: " + s.message();
    return report;
  }
  size_t next_checkpoint = 0;

  const uint64_t size = source.size();
  MerkleFrontier frontier;
  Hash prev{};
  int64_t last_ts = 0;
  NoteVerifier key;
  const uint64_t begin = std::min(options.begin, size);
  if (begin > 0) {
    // Resume: the key from genesis, the chain and tree as stored at `begin`.
    // The key: the one the caller trusts, else the genesis entry's.
    Status resumed = options.trusted_key ? Status::Ok()
                                         : source.ScanEntries(0, 1, [&](uint64_t, ByteView bytes) -> Status {
                                             FL_ASSIGN_OR_RETURN(key, GenesisVerifier(bytes));
                                             return Status::Ok();
                                           });
    if (options.trusted_key) key = *options.trusted_key;
    if (resumed.ok()) {
      // The entry before `begin` when the source has it; otherwise (a bundle that starts at
      // `begin`) its leaf hash from the tree, which the signed roots authenticate.
      Status prior = source.ScanEntries(begin - 1, begin, [&](uint64_t, ByteView bytes) -> Status {
        FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
        last_ts = e.timestamp_ms;
        prev = HashLeaf(bytes);
        return Status::Ok();
      });
      if (!prior.ok()) {
        Result<Hash> leaf = source.ReadNode(0, begin - 1);
        if (leaf.ok()) {
          prev = *leaf;
        } else {
          resumed = leaf.status();
        }
      }
    }
    Result<MerkleFrontier> loaded = MerkleFrontier::Load(source, begin);
    if (!resumed.ok() || !loaded.ok()) {
      report.unusable = true;
      report.reason = "cannot resume verification at entry " + std::to_string(begin) + ": " +
                      (resumed.ok() ? loaded.status().message() : resumed.message());
      return report;
    }
    frontier = *loaded;
    while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].first <= begin) ++next_checkpoint;
  }

  std::vector<std::unique_ptr<NodeCursor>> cursors(64);
  s = ScanEntriesAhead(source, begin, size, [&](uint64_t i, ByteView bytes, const Hash& leaf) -> Status {
    Result<EntryView> e = DecodeEntry(bytes);
    if (!e.ok()) return fail(i, e.status().message());
    if (e->index != i) return fail(i, "entry records index " + std::to_string(e->index));
    if (e->prev_leaf_hash != prev) {
      return fail(i, i == 0 ? "prev_leaf_hash of entry 0 is not 32 zero bytes"
                            : "prev_leaf_hash does not equal the leaf hash of entry " +
                                  std::to_string(i - 1));
    }
    if (e->timestamp_ms < last_ts) return fail(i, "timestamp is earlier than entry " + std::to_string(i - 1) + "'s");
    last_ts = e->timestamp_ms;
    if (i == 0) {
      Result<NoteVerifier> genesis = GenesisVerifier(bytes);
      if (!genesis.ok()) return fail(0, genesis.status().message());
      key = *genesis;
      if (options.trusted_key && FormatVerifierKey(*options.trusted_key) != FormatVerifierKey(key)) {
        return fail(0, "genesis names key " + FormatVerifierKey(key) + ", not the trusted key " +
                           FormatVerifierKey(*options.trusted_key));
      }
    } else if (e->event_type == fb::EventType::Genesis) {
      return fail(i, "a Genesis entry appears after entry 0");
    }
    std::optional<Failure> tree_failure;
    frontier.Append(leaf, [&](uint8_t level, uint64_t index, const Hash& h) {
      if (!options.check_stored_tree || tree_failure) return;
      // Nodes of each level complete in index order: one sequential cursor per level.
      if (!cursors[level]) cursors[level] = source.OpenNodeCursor(level, index);
      Result<Hash> stored = cursors[level]->Next();
      if (!stored.ok() || *stored != h) {
        tree_failure = Failure{i, level == 0 ? "leaf hash does not match the stored tree"
                                             : "stored tree node (level " + std::to_string(level) +
                                                   ", index " + std::to_string(index) +
                                                   ") does not match the entries"};
      }
    });
    if (tree_failure) return fail(tree_failure->index, tree_failure->reason);
    prev = leaf;

    while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].first <= i + 1) {
      const auto& [cp_size, note] = checkpoints[next_checkpoint];
      std::string where = "checkpoint at size " + std::to_string(cp_size);
      if (cp_size != i + 1) return fail(i, where + " is stored under the wrong size");
      Result<Checkpoint> cp = OpenCheckpoint(note, key);
      if (!cp.ok()) return fail(i, where + ": " + cp.status().message());
      if (cp->size != cp_size) return fail(i, where + " states size " + std::to_string(cp->size));
      if (cp->root != frontier.Root()) return fail(i, where + ": signed root differs from the root of the entries");
      report.checkpoints++;
      report.latest_checkpoint_size = cp_size;
      ++next_checkpoint;
    }
    if (options.on_entry) {
      Status applied = options.on_entry(i, bytes);
      if (!applied.ok()) return fail(i, applied.message());
    }
    if (options.progress && (i + 1) % options.progress_every == 0) options.progress(i + 1);
    return Status::Ok();
  });

  report.size = frontier.size();
  report.root = frontier.Root();
  report.origin = key.name;
  if (report.size > 0) report.vkey = FormatVerifierKey(key);
  if (failure) {
    report.bad_index = failure->index;
    report.reason = failure->reason;
    return report;
  }
  if (!s.ok()) {
    // The scan itself failed: a missing or unreadable entry.
    report.bad_index = frontier.size();
    report.reason = s.message();
    return report;
  }
  if (size == 0) {
    report.reason = "the log is empty (no genesis entry)";
    return report;
  }
  if (next_checkpoint < checkpoints.size()) {
    report.bad_index = size - 1;
    report.reason = "checkpoint at size " + std::to_string(checkpoints[next_checkpoint].first) +
                    " is beyond the " + std::to_string(size) + " entries in the log";
    return report;
  }
  if (report.checkpoints == 0 && begin < size) {
    report.bad_index = size - 1;
    report.reason = "no signed checkpoint covers the log";
    return report;
  }
  report.valid = true;
  return report;
}

}  // namespace fundledger
