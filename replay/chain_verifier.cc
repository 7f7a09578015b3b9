#include "replay/chain_verifier.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/checkpoint.h"
#include "ledger/actor_keys.h"
#include "ledger/entry_codec.h"

namespace fundledger {
namespace {

// A failure at one index. Carried beside a Status so a scan stops at once.
struct Failure {
  uint64_t index = 0;
  std::string reason;
};

using Checkpoints = std::vector<std::pair<uint64_t, std::string>>;  // (size, note), smallest first

// A checkpoint whose signature verified but whose root is not known yet: it falls inside a
// chunk, and the root also covers the entries before the chunk.
struct PendingRoot {
  uint64_t index = 0;  // the entry that completes it
  uint64_t size = 0;
  Hash signed_root{};
  Hash chunk_root{};  // root of the chunk's own entries up to `size`
};

// Where a run of consecutive entries starts.
struct RunStart {
  uint64_t first = 0;
  bool whole =
      true;  // tree holds every entry before `first`; else it is empty and first is aligned
  MerkleFrontier tree;
  Hash prev{};          // leaf hash of entry first - 1 (32 zero bytes before entry 0)
  int64_t last_ts = 0;  // its timestamp
};

// What a walk (or one chunk of it) found: the first failure if any, the tree it built, and the
// checkpoints whose roots it checked.
struct Outcome {
  std::optional<Failure> failure;
  MerkleFrontier tree;
  uint64_t checkpoints_checked = 0;
  uint64_t latest_checkpoint_size = 0;
};

// Compares recomputed tree nodes with the stored ones, in the order they complete: one tree
// cursor reads each stored value (a tile's eight levels) once. Every node it reads is compared,
// so the source need not re-check its own checksums of them.
class StoredNodes {
 public:
  explicit StoredNodes(const LogSource& source) : source_(source) {}
  // Why node (level, index) = h disagrees with the store, or nothing when it agrees.
  std::optional<std::string> Mismatch(uint8_t level, uint64_t index, const Hash& h) {
    if (!cursor_) cursor_ = source_.OpenTreeCursorHashChecked();  // not before a node is compared
    Result<Hash> stored = cursor_->Node(level, index);
    if (stored.ok() && *stored == h) return std::nullopt;
    return level == 0 ? "leaf hash does not match the stored tree"
                      : "stored tree node (level " + std::to_string(level) + ", index " +
                            std::to_string(index) + ") does not match the entries";
  }

 private:
  const LogSource& source_;
  std::unique_ptr<TreeCursor> cursor_;
};

// Checks consecutive entries, one at a time, in index order. A whole run extends the log's
// tree and checks each checkpoint's root at once. A chunk starts at a multiple of a power of
// two no smaller than its length and builds its own subtrees, which are the log's nodes at
// an offset; its checkpoints' roots wait (pending) for the tree before it.
class RunChecker {
 public:
  RunChecker(const LogSource& source, const VerifyOptions& options, const Checkpoints& checkpoints,
             const NoteVerifier& key, RunStart start)
      : options_(options),
        checkpoints_(checkpoints),
        key_(key),
        offset_(start.whole ? 0 : start.first),
        whole_(start.whole),
        tree_(std::move(start.tree)),
        prev_(start.prev),
        last_ts_(start.last_ts),
        stored_(source) {
    // Checkpoints of size <= first were completed by entries before this run (a size-0 one,
    // which no entry completes, is reported at entry 0).
    auto by_size = [](uint64_t size, const auto& cp) { return size < cp.first; };
    next_checkpoint_ =
        start.first == 0
            ? 0
            : static_cast<size_t>(
                  std::upper_bound(checkpoints_.begin(), checkpoints_.end(), start.first, by_size) -
                  checkpoints_.begin());
  }

  // The entry before the first, when the run could not be given it.
  void SetPrior(const Hash& leaf, int64_t timestamp_ms) {
    prev_ = leaf;
    last_ts_ = timestamp_ms;
  }

  // Checks entry i; on a problem records it (failure()) and returns an error.
  Status Check(uint64_t i, ByteView bytes, const Hash& leaf) {
    Result<EntryView> e = DecodeEntry(bytes);
    if (!e.ok()) return Fail(i, e.status().message());
    last_ = *e;
    if (e->index != i) return Fail(i, "entry records index " + std::to_string(e->index));
    if (e->prev_leaf_hash != prev_) {
      return Fail(i, i == 0 ? "prev_leaf_hash of entry 0 is not 32 zero bytes"
                            : "prev_leaf_hash does not equal the leaf hash of entry " +
                                  std::to_string(i - 1));
    }
    if (e->timestamp_ms < last_ts_)
      return Fail(i, "timestamp is earlier than entry " + std::to_string(i - 1) + "'s");
    last_ts_ = e->timestamp_ms;
    if (i == 0) {
      Result<NoteVerifier> genesis = GenesisVerifier(bytes);
      if (!genesis.ok()) return Fail(0, genesis.status().message());
      key_ = *genesis;
      if (options_.trusted_key &&
          FormatVerifierKey(*options_.trusted_key) != FormatVerifierKey(key_)) {
        return Fail(0, "genesis names key " + FormatVerifierKey(key_) + ", not the trusted key " +
                           FormatVerifierKey(*options_.trusted_key));
      }
    } else if (e->event_type == fb::EventType::Genesis) {
      return Fail(i, "a Genesis entry appears after entry 0");
    } else if (Status payload = VerifyPayload(e->event_type, e->payload); !payload.ok()) {
      return Fail(i, payload.message());  // e.g. an enum number the schema does not name
    }
    std::optional<Failure> tree_failure;
    tree_.Append(leaf, [&](uint8_t level, uint64_t index, const Hash& h) {
      if (!options_.check_stored_tree || tree_failure) return;
      // A chunk's nodes sit at its offset in the log's tree.
      if (std::optional<std::string> why = stored_.Mismatch(level, index + (offset_ >> level), h)) {
        tree_failure = Failure{i, std::move(*why)};
      }
    });
    if (tree_failure) return Fail(tree_failure->index, tree_failure->reason);
    prev_ = leaf;

    while (next_checkpoint_ < checkpoints_.size() &&
           checkpoints_[next_checkpoint_].first <= i + 1) {
      const auto& [cp_size, note] = checkpoints_[next_checkpoint_];
      std::string where = "checkpoint at size " + std::to_string(cp_size);
      if (cp_size != i + 1) return Fail(i, where + " is stored under the wrong size");
      Result<Checkpoint> cp = OpenCheckpoint(note, key_);
      if (!cp.ok()) return Fail(i, where + ": " + cp.status().message());
      if (cp->size != cp_size) return Fail(i, where + " states size " + std::to_string(cp->size));
      if (whole_) {
        if (cp->root != tree_.Root())
          return Fail(i, where + ": signed root differs from the root of the entries");
        ++checkpoints_checked_;
        latest_checkpoint_size_ = cp_size;
      } else {
        pending_.push_back({i, cp_size, cp->root, tree_.Root()});
      }
      ++next_checkpoint_;
    }
    return Status::Ok();
  }

  // The index one past the last entry added to the tree.
  uint64_t end() const { return offset_ + tree_.size(); }
  // The entry the last Check passed, decoded (its views point into the bytes Check was given).
  const EntryView& last_entry() const { return last_; }
  const std::optional<Failure>& failure() const { return failure_; }
  std::vector<PendingRoot>& pending() { return pending_; }
  // What the run found, once its scan ended with `scan` (an error there is a missing or
  // unreadable entry, reported at the first entry not checked). Leaves the checker spent.
  Outcome Finish(const Status& scan) {
    Outcome out;
    out.failure = failure_;
    if (!out.failure && !scan.ok()) out.failure = Failure{end(), scan.message()};
    out.tree = std::move(tree_);
    out.checkpoints_checked = checkpoints_checked_;
    out.latest_checkpoint_size = latest_checkpoint_size_;
    return out;
  }

 private:
  Status Fail(uint64_t index, std::string reason) {
    failure_ = Failure{index, std::move(reason)};
    return Corruption("verification failed");
  }

  const VerifyOptions& options_;
  const Checkpoints& checkpoints_;
  NoteVerifier key_;
  const uint64_t offset_;
  const bool whole_;
  MerkleFrontier tree_;
  Hash prev_;
  int64_t last_ts_;
  size_t next_checkpoint_ = 0;
  StoredNodes stored_;
  std::optional<Failure> failure_;
  EntryView last_;
  std::vector<PendingRoot> pending_;
  uint64_t checkpoints_checked_ = 0;
  uint64_t latest_checkpoint_size_ = 0;
};

// What the signature check needs of a chunk's entries, gathered by the thread that checked the
// chunk so that the log is read once: each entry's type, and a copy of each entry that is
// signed or manages keys (the only ones whose check reads more than the type). A chunk whose
// copies would pass kept_bytes_max keeps none, and its entries are read again when it is joined.
struct ChunkSignatures {
  static constexpr size_t kept_bytes_max = 16 << 20;
  std::vector<fb::EventType> types;
  std::vector<std::pair<uint64_t, Bytes>> kept;  // (index, entry bytes), in index order
  size_t kept_bytes = 0;
  bool reread = false;

  void Add(uint64_t i, const EntryView& e, ByteView bytes) {
    types.push_back(e.event_type);
    if (reread || (e.signature == nullptr && !IsKeyEvent(e.event_type))) return;
    kept_bytes += bytes.size();
    if (kept_bytes > kept_bytes_max) {
      reread = true;
      kept.clear();
      kept.shrink_to_fit();
      return;
    }
    kept.emplace_back(i, Bytes(bytes.begin(), bytes.end()));
  }
};

// Every entry's signature against the keys registered before it (ledger/actor_keys.h), entry
// by entry in index order from entry 0, on one thread at a time.
class SignatureCheck {
 public:
  SignatureCheck(const LogSource& source, std::string origin, VerifyReport& report)
      : source_(source), walk_(std::move(origin)), report_(report) {}

  // The entries checked so far: [0, checked()).
  uint64_t checked() const { return next_; }
  bool failed() const { return failed_; }

  // Entry checked(), decoded; its failure names it.
  std::optional<Failure> Check(const EntryView& e) {
    Result<std::optional<EntrySignature>> sig = DecodeEntrySignature(e.signature);
    Status checked = sig.status();
    if (checked.ok()) {
      SignedEntryView view{e.actor,           e.role,    e.event_type,
                           e.idempotency_key, e.payload, *sig ? &**sig : nullptr};
      checked = walk_.Check(next_, view);
      if (checked.ok() && *sig && sig->value().part == 0) ++report_.signed_commands;
    }
    return Done(checked);
  }

  // A chunk's entries from checked() on, as its checking thread gathered them.
  std::optional<Failure> CheckChunk(const ChunkSignatures& chunk) {
    if (chunk.reread) return CatchUp(next_ + chunk.types.size());
    const uint64_t first = next_;
    size_t kept = 0;
    for (size_t j = 0; j < chunk.types.size(); ++j) {
      if (kept < chunk.kept.size() && chunk.kept[kept].first == first + j) {
        Result<EntryView> e = DecodeEntry(chunk.kept[kept++].second);
        if (!e.ok()) return Done(e.status());  // the chunk decoded it: cannot happen
        if (std::optional<Failure> f = Check(*e)) return f;
        continue;
      }
      // Unsigned and no key event: its type decides; a refusal is reported from the whole entry.
      SignedEntryView view;
      view.event_type = chunk.types[j];
      if (walk_.Check(next_, view).ok()) {
        ++next_;
      } else if (std::optional<Failure> f = CatchUp(next_ + 1)) {
        return f;
      }
    }
    return std::nullopt;
  }

  // Reads and checks entries [checked(), end) from the source.
  std::optional<Failure> CatchUp(uint64_t end) {
    if (next_ >= end) return std::nullopt;
    std::optional<Failure> failure;
    Status s = source_.ScanEntries(next_, end, [&](uint64_t, ByteView bytes) -> Status {
      Result<EntryView> e = DecodeEntry(bytes);
      failure = e.ok() ? Check(*e) : Done(e.status());
      return failure ? Corruption("verification failed") : Status::Ok();
    });
    if (failure) return failure;
    if (!s.ok()) return Done(s);
    return std::nullopt;
  }

  // After the entries of a log of `log_size` entries up to `end`: a command still open at the
  // end of the log is incomplete.
  std::optional<Failure> Finish(uint64_t end, uint64_t log_size) {
    if (Status open = walk_.Finish(end); !open.ok() && end == log_size) {
      failed_ = true;
      return Failure{end - 1, "signature: " + open.message()};
    }
    report_.signing_required_from = walk_.keys().required_from();
    return std::nullopt;
  }

 private:
  std::optional<Failure> Done(const Status& checked) {
    if (checked.ok()) {
      ++next_;
      return std::nullopt;
    }
    failed_ = true;
    return Failure{next_, "signature: " + checked.message()};
  }

  const LogSource& source_;
  SignatureWalk walk_;
  VerifyReport& report_;
  uint64_t next_ = 0;
  bool failed_ = false;
};

// The outcome of checking one chunk, handed to the thread that joins chunks in order.
struct ChunkResult {
  bool done = false;
  Outcome outcome;  // tree: the chunk's own subtrees (the log's, for chunk 0)
  std::vector<PendingRoot> pending;
  ChunkSignatures signatures;
};

// Verification state shared by the two ways of walking the log.
struct Walk {
  const LogSource& source;
  const VerifyOptions& options;
  const Checkpoints& checkpoints;
  NoteVerifier key;
  RunStart start;  // of the whole walk
  uint64_t size = 0;
  // Checks signatures beside the chain, or null. The walk checks them up to the first entry the
  // chain refuses (or all of them), or stops at the first refused signature.
  SignatureCheck* signatures = nullptr;
};

// Calls fn(index, bytes, leaf hash) for the walk's entries [begin, size) in order, `ahead`
// first when given: on a second thread reading ahead (ScanEntriesAhead), or, with
// options.threads == 1, on this one alone.
Status ScanInOrder(const Walk& walk, uint64_t begin, const EntryFn& fn, const EntryFn& ahead) {
  const bool hashes_checked = walk.options.check_stored_tree;
  if (walk.options.threads != 1) {
    return ScanEntriesAhead(walk.source, begin, walk.size, fn, ahead, hashes_checked);
  }
  auto each = [&](uint64_t i, ByteView bytes) -> Status {
    const Hash leaf = HashLeaf(bytes);
    if (ahead) FL_RETURN_IF_ERROR(ahead(i, bytes, leaf));
    return fn(i, bytes, leaf);
  };
  return hashes_checked
             ? walk.source.ScanEntriesHashChecked(begin, walk.size, /*aligned=*/true, each)
             : walk.source.ScanEntries(begin, walk.size, each);
}

// One entry after another, in order, on two threads. Without on_entry, a second thread reads
// and hashes the next entries while this one checks them (used when the walk is one chunk).
// With on_entry (replay), the second thread also checks them, and this one hands the checked
// entries to on_entry: applying them is the longer stage, and it no longer waits for checks.
Outcome WalkInOrder(Walk& walk, std::vector<Hash>* leaf_hashes) {
  const VerifyOptions& options = walk.options;
  const bool check_ahead = static_cast<bool>(options.on_entry);
  RunChecker checker(walk.source, options, walk.checkpoints, walk.key, std::move(walk.start));
  const uint64_t begin = checker.end(), every = std::max<uint64_t>(options.progress_every, 1);
  std::optional<Failure> apply_failure, signature_failure;
  auto check = [&](uint64_t i, ByteView bytes, const Hash& leaf) {
    FL_RETURN_IF_ERROR(checker.Check(i, bytes, leaf));
    if (leaf_hashes != nullptr) leaf_hashes->push_back(leaf);
    if (walk.signatures == nullptr) return Status::Ok();
    assert(walk.signatures->checked() == i);
    signature_failure = walk.signatures->Check(checker.last_entry());
    return signature_failure ? Corruption("verification failed") : Status::Ok();
  };
  Status s = ScanInOrder(
      walk, begin,
      [&](uint64_t i, ByteView bytes, const Hash& leaf) -> Status {
        if (!check_ahead) FL_RETURN_IF_ERROR(check(i, bytes, leaf));
        if (options.on_entry) {
          Status applied = options.on_entry(i, bytes);
          if (!applied.ok()) {
            apply_failure = Failure{i, applied.message()};
            return Corruption("verification failed");
          }
        }
        if (options.progress && (i + 1) % every == 0) options.progress(i + 1);
        return Status::Ok();
      },
      check_ahead ? EntryFn(check) : EntryFn());
  Outcome out = checker.Finish(s);
  if (signature_failure) out.failure = signature_failure;  // its entry passed the chain's checks
  // An entry that failed to apply comes before any the checks ahead refused.
  if (apply_failure) out.failure = apply_failure;
  return out;
}

// Chunks of 2^chunk_log2 entries checked on several threads, joined in order on this one.
// The last chunks are smaller (ChunkBounds), so that the threads finish together.
class ChunkedWalk {
 public:
  explicit ChunkedWalk(Walk& walk) : walk_(walk) {
    threads_ =
        walk.options.threads != 0 ? walk.options.threads : std::thread::hardware_concurrency();
    threads_ = std::max(threads_, 1u);
    bounds_ = ChunkBounds(walk, threads_);
    chunks_ = bounds_.size() - 1;
    threads_ = static_cast<unsigned>(std::min<uint64_t>(threads_, chunks_));
  }

  // Whether splitting pays: more than one chunk, and no caller that needs entries in order.
  static bool Worthwhile(const Walk& walk) {
    if (walk.options.on_entry || walk.options.keep_leaf_hashes || walk.options.chunk_log2 >= 63)
      return false;
    return walk.size > FirstBoundary(walk);
  }

  Outcome Run() {
    results_.resize(chunks_);
    window_ =
        2 * size_t{threads_} + 2;  // bounds the results (pending roots) held ahead of the join
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads_; ++t) workers.emplace_back([this] { Work(); });
    Outcome out = Join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      stopping_.store(true, std::memory_order_relaxed);
    }
    cv_.notify_all();
    for (std::thread& w : workers) w.join();
    return out;
  }

 private:
  // Times a tail chunk may be halved (2^16 entries down to 2^12): below that a chunk's own
  // costs (its tree cursor, the entry before it read again) outweigh finishing together.
  static constexpr uint8_t kTailHalvingsMax = 4;
  // Full chunks left per thread below which the next chunks are halved.
  static constexpr uint64_t kTailFullChunksPerThread = 2;

  // The first chunk boundary after the walk's start: chunk 0 runs up to it.
  static uint64_t FirstBoundary(const Walk& walk) {
    const uint64_t chunk = uint64_t{1} << walk.options.chunk_log2;
    return (walk.start.first / chunk + 1) * chunk;
  }
  // Where each chunk starts, and the walk's end last. Chunk 0 runs from the walk's start to the
  // first boundary, then chunks of 2^chunk_log2 entries follow while the entries left fill
  // kTailFullChunksPerThread of them for every thread; past that each chunk is halved as the
  // entries left shrink (at most kTailHalvingsMax times), so the threads run out of work together
  // instead of one checking a whole chunk while the others wait (at 1M entries on two cores,
  // ~16 chunks: up to a sixteenth of the walk on one core). Sizes only shrink, so each chunk
  // starts at a multiple of its own size and builds nodes of the log's tree.
  static std::vector<uint64_t> ChunkBounds(const Walk& walk, unsigned threads) {
    const uint8_t chunk_log2 = walk.options.chunk_log2;
    const uint8_t tail_log2_min =
        chunk_log2 > kTailHalvingsMax ? static_cast<uint8_t>(chunk_log2 - kTailHalvingsMax) : 0;
    std::vector<uint64_t> bounds{walk.start.first};
    uint64_t at = std::min(walk.size, FirstBoundary(walk));
    bounds.push_back(at);
    uint8_t log2 = chunk_log2;
    while (at < walk.size) {
      const uint64_t left = walk.size - at;
      while (log2 > tail_log2_min && left < (kTailFullChunksPerThread * threads) << log2) --log2;
      assert(at % (uint64_t{1} << log2) == 0);
      at = std::min(walk.size, at + (uint64_t{1} << log2));
      bounds.push_back(at);
    }
    return bounds;
  }
  uint64_t ChunkBegin(size_t k) const { return bounds_[k]; }
  uint64_t ChunkEnd(size_t k) const { return bounds_[k + 1]; }

  void Work() {
    for (;;) {
      size_t k = next_.fetch_add(1);
      if (k >= chunks_) return;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || k < joined_ + window_; });
        if (stop_) return;
      }
      ChunkResult r = CheckChunk(k);
      {
        std::lock_guard<std::mutex> lock(mu_);
        results_[k] = std::move(r);
        results_[k].done = true;
      }
      cv_.notify_all();
    }
  }

  ChunkResult CheckChunk(size_t k) {
    const uint64_t first = ChunkBegin(k), end = ChunkEnd(k);
    RunStart start;
    if (k == 0) {
      start = walk_.start;  // continues the tree as stored at the walk's start
    } else {
      start.first = first;
      start.whole = false;
    }
    RunChecker checker(walk_.source, walk_.options, walk_.checkpoints, walk_.key, std::move(start));
    // A later chunk reads the entry before it too, for the chain and timestamp checks (the
    // chunk before reports that entry if it is bad).
    uint64_t from = k == 0 ? first : first - 1;
    ChunkSignatures signatures;
    auto check = [&](uint64_t i, ByteView bytes) -> Status {
      if (stopping_.load(std::memory_order_relaxed)) return Internal("verification stopped");
      if (i < first) {
        Result<EntryView> e = DecodeEntry(bytes);
        checker.SetPrior(HashLeaf(bytes),
                         e.ok() ? e->timestamp_ms : std::numeric_limits<int64_t>::min());
        return Status::Ok();
      }
      FL_RETURN_IF_ERROR(checker.Check(i, bytes, HashLeaf(bytes)));
      if (walk_.signatures != nullptr) signatures.Add(i, checker.last_entry(), bytes);
      return Status::Ok();
    };
    // With the stored tree checked, every byte read is hashed and compared with it.
    Status s = walk_.options.check_stored_tree
                   ? walk_.source.ScanEntriesHashChecked(from, end, /*aligned=*/true, check)
                   : walk_.source.ScanEntries(from, end, check);
    ChunkResult r;
    r.signatures = std::move(signatures);
    r.pending = std::move(checker.pending());
    r.outcome = checker.Finish(s);
    return r;
  }

  // Joins the chunks in order into the log's tree; stops at the first failure.
  Outcome Join() {
    Outcome out;
    StoredNodes above(walk_.source);  // stored nodes above the chunks
    const VerifyOptions& options = walk_.options;
    const uint64_t every = std::max<uint64_t>(options.progress_every, 1);
    uint64_t next_progress = (walk_.start.first / every + 1) * every;
    auto fail = [&](uint64_t index, std::string reason) {
      out.failure = Failure{index, std::move(reason)};
      return false;
    };
    auto resolve = [&](const MerkleFrontier& before, const PendingRoot& p) {
      if (before.RootWith(p.chunk_root) != p.signed_root) {
        return fail(p.index, "checkpoint at size " + std::to_string(p.size) +
                                 ": signed root differs from the root of the entries");
      }
      ++out.checkpoints_checked;
      out.latest_checkpoint_size = p.size;
      return true;
    };
    for (size_t k = 0; k < chunks_; ++k) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return results_[k].done; });
      }
      ChunkResult r = std::move(results_[k]);
      if (k == 0) {
        out = std::move(r.outcome);  // chunk 0 continues the log's tree
        if (out.failure) return out;
        if (!CheckSignatures(r.signatures, out)) return out;
      } else {
        const Outcome& chunk = r.outcome;
        // In the order checking one entry after another meets them: checkpoints before the
        // chunk's last entry, then (at that entry) the nodes above the chunk, then its own.
        const uint64_t last = ChunkBegin(k) + chunk.tree.size() - 1;
        const MerkleFrontier before = out.tree;
        size_t p = 0;
        for (; p < r.pending.size() && (chunk.failure || r.pending[p].index < last); ++p) {
          if (!resolve(before, r.pending[p])) return out;
        }
        if (chunk.failure) {
          out.failure = chunk.failure;
          return out;
        }
        std::optional<Failure> tree_failure;
        out.tree.AppendTree(chunk.tree, [&](uint8_t level, uint64_t index, const Hash& h) {
          if (!options.check_stored_tree || tree_failure) return;
          if (std::optional<std::string> why = above.Mismatch(level, index, h))
            tree_failure = Failure{last, std::move(*why)};
        });
        if (tree_failure) {
          out.failure = std::move(tree_failure);
          return out;
        }
        for (; p < r.pending.size(); ++p) {
          if (!resolve(before, r.pending[p])) return out;
        }
        if (!CheckSignatures(r.signatures, out)) return out;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        joined_ = k + 1;
      }
      cv_.notify_all();
      if (options.progress) {
        for (; next_progress <= out.tree.size(); next_progress += every)
          options.progress(next_progress);
      }
    }
    return out;
  }

  // A chunk whose chain held: its signatures, in order; false (out.failure set) on a refusal.
  bool CheckSignatures(const ChunkSignatures& chunk, Outcome& out) {
    if (walk_.signatures == nullptr || walk_.signatures->failed()) return true;
    out.failure = walk_.signatures->CheckChunk(chunk);
    return !out.failure;
  }

  Walk& walk_;
  unsigned threads_ = 1;
  std::vector<uint64_t> bounds_;  // chunk k is [bounds_[k], bounds_[k + 1])
  size_t chunks_ = 0;
  size_t window_ = 0;
  std::vector<ChunkResult> results_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  size_t joined_ = 0;
};

// An invalid walk hands back the leaf hashes of the entries before the one at fault only: a
// failure found after its entry's own checks (a signature, an on_entry refusal, a checkpoint
// missing at the end) ends them there too.
void KeepLeafHashesBefore(uint64_t bad_index, uint64_t begin, VerifyReport& report) {
  const uint64_t before = bad_index > begin ? bad_index - begin : 0;
  if (report.leaf_hashes.size() > before) report.leaf_hashes.resize(before);
}

}  // namespace

VerifyReport VerifyChain(const LogSource& source, const VerifyOptions& options) {
  VerifyReport report;
  Checkpoints checkpoints;
  const bool window = options.end != UINT64_MAX;
  Status s = source.ScanCheckpoints([&](uint64_t size, std::string_view note) {
    if (!window || size <= options.end) checkpoints.emplace_back(size, std::string(note));
    return Status::Ok();
  });
  if (!s.ok()) {
    report.unusable = true;
    report.reason = "cannot read checkpoints: " + s.message();
    return report;
  }

  const uint64_t size = std::min(source.size(), options.end);
  const uint64_t begin = std::min(options.begin, size);
  Walk walk{source, options, checkpoints, NoteVerifier{}, RunStart{}, size};
  bool have_key = false;
  walk.start.first = begin;
  // The key: the one the caller trusts when resuming, else the genesis entry's (entry 0
  // checks it against the trusted key).
  if (options.trusted_key && begin > 0) {
    walk.key = *options.trusted_key;
    have_key = true;
  } else if (size > 0) {
    Status genesis = source.ScanEntries(0, 1, [&](uint64_t, ByteView bytes) -> Status {
      FL_ASSIGN_OR_RETURN(walk.key, GenesisVerifier(bytes));
      have_key = true;
      return Status::Ok();
    });
    if (!genesis.ok() && begin > 0) {
      report.unusable = true;
      report.reason =
          "cannot resume verification at entry " + std::to_string(begin) + ": " + genesis.message();
      return report;
    }
    // From entry 0, a bad genesis is reported there, as that entry's problem.
  }
  if (begin > 0) {
    // Resume: the chain and tree as stored at `begin`. The entry before `begin` when the
    // source has it; otherwise (a bundle that starts at `begin`) its leaf hash from the tree,
    // which the signed roots authenticate.
    Status resumed = source.ScanEntries(begin - 1, begin, [&](uint64_t, ByteView bytes) -> Status {
      FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
      walk.start.last_ts = e.timestamp_ms;
      walk.start.prev = HashLeaf(bytes);
      return Status::Ok();
    });
    if (!resumed.ok()) {
      Result<Hash> leaf = source.ReadNode(0, begin - 1);
      if (leaf.ok()) {
        walk.start.prev = *leaf;
        resumed = Status::Ok();
      } else {
        resumed = leaf.status();
      }
    }
    Result<MerkleFrontier> loaded = MerkleFrontier::Load(source, begin);
    if (!resumed.ok() || !loaded.ok()) {
      report.unusable = true;
      report.reason = "cannot resume verification at entry " + std::to_string(begin) + ": " +
                      (resumed.ok() ? loaded.status().message() : resumed.message());
      return report;
    }
    walk.start.tree = *loaded;
  }

  // Signatures need the keys of the log so far: from entry 0 only, checked in the same walk as
  // the chain (the log is read once), and the earlier failure of the two is the verdict.
  std::optional<SignatureCheck> signatures;
  if (options.check_signatures && begin == 0 && have_key) {
    signatures.emplace(source, walk.key.name, report);
    walk.signatures = &*signatures;
  }
  std::vector<Hash>* leaf_hashes = options.keep_leaf_hashes ? &report.leaf_hashes : nullptr;
  if (leaf_hashes != nullptr) leaf_hashes->reserve(size - begin);
  Outcome out =
      ChunkedWalk::Worthwhile(walk) ? ChunkedWalk(walk).Run() : WalkInOrder(walk, leaf_hashes);
  if (signatures && !signatures->failed()) {
    // The walk stopped at the chain's first failure, perhaps before checking the signatures of
    // the entries up to it.
    const uint64_t end = out.failure ? out.failure->index : out.tree.size();
    std::optional<Failure> unsigned_at = signatures->CatchUp(end);
    if (!unsigned_at) unsigned_at = signatures->Finish(end, source.size());
    if (unsigned_at && (!out.failure || unsigned_at->index < out.failure->index))
      out.failure = std::move(unsigned_at);
  }
  report.origin = walk.key.name;
  if (have_key) report.vkey = FormatVerifierKey(walk.key);
  report.checkpoints = out.checkpoints_checked;
  report.latest_checkpoint_size = out.latest_checkpoint_size;
  if (out.failure) {
    report.bad_index = out.failure->index;
    report.reason = out.failure->reason;
    report.size = out.failure->index;
    KeepLeafHashesBefore(report.bad_index, begin, report);
    return report;
  }
  assert(leaf_hashes == nullptr || leaf_hashes->size() == out.tree.size() - begin);
  report.size = out.tree.size();
  report.root = out.tree.Root();
  if (size == 0) {
    report.reason = "the log is empty (no genesis entry)";
    return report;
  }
  auto beyond = std::upper_bound(checkpoints.begin(), checkpoints.end(), size,
                                 [](uint64_t n, const auto& cp) { return n < cp.first; });
  if (beyond != checkpoints.end()) {
    report.bad_index = size - 1;
    report.reason = "checkpoint at size " + std::to_string(beyond->first) + " is beyond the " +
                    std::to_string(size) + " entries in the log";
    KeepLeafHashesBefore(report.bad_index, begin, report);
    return report;
  }
  if (report.checkpoints == 0 && begin < size && !window) {
    report.bad_index = size - 1;
    report.reason = "no signed checkpoint covers the log";
    KeepLeafHashesBefore(report.bad_index, begin, report);
    return report;
  }
  report.valid = true;
  return report;
}

}  // namespace fundledger
