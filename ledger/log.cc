#include "ledger/log.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "crypto/key_file.h"

namespace fundledger {
namespace {

// RocksDB counts per-thread statistics (perf context) on every read and write unless told
// not to; nothing here reads them, and counting cost ~10% of a full scan's CPU.
void QuietRocksDbCounters() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

constexpr char kMetaFormat[] = "format";
constexpr char kMetaOrigin[] = "origin";
constexpr char kMetaSize[] = "size";
constexpr char kMetaTreeLayout[] = "tree_layout";
constexpr char kTreeLayoutTiles[] = "2";
constexpr size_t kIdempotencyValueBytes = 8 + 8 + kHashBytes;
constexpr int kResumeAttemptsMax = 50;  // after a failed write, at most 1 s waiting for
constexpr int kResumeWaitMs = 20;       // RocksDB's own recovery before reporting again

rocksdb::Slice ToSlice(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
ByteView ToBytes(const rocksdb::Slice& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace()) return IoError(what + ": the disk is full (" + s.ToString() + ")");
  if (s.IsCorruption()) return Corruption(what + ": " + s.ToString());
  if (s.IsNotFound()) return NotFound(what + ": not found");
  return IoError(what + ": " + s.ToString());
}

std::string U64Value(uint64_t v) {
  std::string s(8, '\0');
  PutBigEndian64(v, reinterpret_cast<uint8_t*>(s.data()));
  return s;
}

// The writer resumes the store itself after a failed write, before its next commit, so
// RocksDB's own background recovery (which would hold the store busy) is switched off.
class ManualRecovery final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

Status StoreError(const std::string& dir, std::string why) {
  return Corruption("store " + dir + " is inconsistent and was not opened: " + std::move(why));
}

}  // namespace

// Drops the leaf rows whose tile is complete (the tile holds them). Leaf rows are written once
// and never deleted, so a commit pays no deletions; the rows go when compaction next rewrites
// their table. Off until the open has checked the store's format.
class TreeRowFilter final : public rocksdb::CompactionFilter {
 public:
  TreeRowFilter(const std::atomic<bool>& active, const std::atomic<uint64_t>& size)
      : active_(active), size_(size) {}
  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice&, std::string*,
              bool*) const override {
    if (key.size() != 9 || key[0] != 0 || !active_.load(std::memory_order_acquire)) return false;
    const uint64_t index = GetBigEndian64(reinterpret_cast<const uint8_t*>(key.data() + 1));
    // A tile complete at any committed size stays complete: the size only grows.
    return index < size_.load(std::memory_order_acquire) / kTileWidth * kTileWidth;
  }
  const char* Name() const override { return "fundledger.TreeRowFilter"; }

 private:
  const std::atomic<bool>& active_;
  const std::atomic<uint64_t>& size_;
};

std::string StorePath(const std::string& data_dir) { return data_dir + "/store"; }
std::string SigningKeyPath(const std::string& data_dir) { return data_dir + "/signing.key"; }

std::string EntryKey(uint64_t index) { return U64Value(index); }

Hash SubmissionDigest(const Submission& submission) {
  Sha256 h;
  uint8_t n[8];
  auto put_len = [&](uint64_t v) {
    PutBigEndian64(v, n);
    h.Update(ByteView(n, 8));
  };
  put_len(submission.entries.size());
  for (const NewEntry& e : submission.entries) {
    put_len(e.actor.size());
    h.Update(AsBytes(e.actor));
    h.Update(static_cast<uint8_t>(e.role));
    put_len(static_cast<uint64_t>(e.event_type));
    put_len(e.payload.size());
    h.Update(e.payload);
  }
  return h.Finish();
}

Log::Log(std::string data_dir, LogOptions options)
    : data_dir_(std::move(data_dir)), options_(std::move(options)) {}

Log::~Log() {
  Status s = Close();
  (void)s;  // a destructor cannot report; callers who care call Close() themselves
}

int64_t Log::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Log::OpenDb(bool create) {
  rocksdb::Options db_options;
  db_options.create_if_missing = create;
  db_options.error_if_exists = create;
  // Column families added by a newer version are created on a writable open.
  db_options.create_missing_column_families = !options_.read_only;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;
  // Bounds the write-ahead log kept alive by rarely written column families, and so the time
  // an open after a crash spends replaying it (~1 s per 150 MiB on 2 cores).
  db_options.max_total_wal_size = 128ull << 20;
  if (options_.env != nullptr) db_options.env = options_.env;
  db_options.max_bgerror_resume_count = 0;
  db_options.listeners.push_back(std::make_shared<ManualRecovery>());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  rocksdb::ColumnFamilyOptions cf_options;
  // Keys arrive in runs that ascend within their first byte (entry indices, tree levels,
  // projection row kinds): a remembered insert position per first byte spares most of the
  // memtable's skip-list search.
  cf_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
  for (const char* name :
       {rocksdb::kDefaultColumnFamilyName.c_str(), kEntriesColumn, kTreeColumn, kIdempotencyColumn,
        kMetaColumn, kCheckpointsColumn, kProjectionsColumn, kVaultColumn}) {
    cfs.emplace_back(name, cf_options);
    // Tree nodes are hashes: they never compress, so trying costs ingest and verification time.
    if (std::string_view(name) == kTreeColumn)
      cfs.back().options.compression = rocksdb::kNoCompression;
    if (std::string_view(name) == kTreeColumn && !options_.read_only) {
      tree_row_filter_ = std::make_unique<TreeRowFilter>(drop_covered_rows_, committed_size_);
      cfs.back().options.compaction_filter = tree_row_filter_.get();
    }
    // Proofs and entry reads are point lookups: a Bloom filter (~10 bits a key) lets each one
    // skip the tables of the levels that do not hold the key instead of searching their blocks.
    if (std::string_view(name) == kTreeColumn || std::string_view(name) == kEntriesColumn) {
      rocksdb::BlockBasedTableOptions table;
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      // Entries are read mostly in full scans (verify, replay, export): 16 KiB blocks (RocksDB's
      // default is 4) take a quarter of the per-block work and compress 8% smaller; a point read
      // decompresses a few microseconds more. Tree nodes stay in 4 KiB blocks for proofs.
      if (std::string_view(name) == kEntriesColumn) table.block_size = 16 << 10;
      cfs.back().options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    }
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      options_.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, StorePath(data_dir_), cfs, &handles_, &db)
          : rocksdb::DB::Open(db_options, StorePath(data_dir_), cfs, &handles_, &db);
  if (!s.ok()) {
    if (s.IsInvalidArgument() || s.IsPathNotFound() || s.IsIOError()) {
      if (!create && !std::filesystem::exists(StorePath(data_dir_))) {
        return NotFound("no ledger at " + data_dir_ + " (run `fundledger init --data " + data_dir_ +
                        " --origin NAME` first)");
      }
    }
    return FromRocks(s, "cannot open the store at " + StorePath(data_dir_));
  }
  db_.reset(db);
  entries_cf_ = handles_[1];
  tree_cf_ = handles_[2];
  idem_cf_ = handles_[3];
  meta_cf_ = handles_[4];
  checkpoints_cf_ = handles_[5];
  projections_cf_ = handles_[6];
  vault_cf_ = handles_[7];
  return Status::Ok();
}

Result<std::unique_ptr<Log>> Log::Create(const std::string& data_dir, std::string_view origin,
                                         LogOptions options) {
  if (options.read_only) return InvalidArgument("cannot create a store read-only");
  if (!IsValidKeyName(origin)) {
    return InvalidArgument(
               "origin must be non-empty with no spaces or '+', e.g. ledger.city.gov.cn")
        .WithField("origin");
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return IoError("cannot create " + data_dir + ": " + ec.message());
  if (std::filesystem::exists(StorePath(data_dir)) ||
      std::filesystem::exists(SigningKeyPath(data_dir))) {
    return Conflict("a ledger already exists at " + data_dir);
  }
  FL_ASSIGN_OR_RETURN(NoteSigner signer, MakeNoteSigner(origin, Ed25519PrivateKey::Generate()));
  // The key first: a crash before the store exists leaves a key and no store, which Create
  // refuses to overwrite and an operator can see and remove; never a store with no key.
  FL_RETURN_IF_ERROR(WriteSignerKeyFile(SigningKeyPath(data_dir), signer));

  std::unique_ptr<Log> log(new Log(data_dir, options));
  FL_RETURN_IF_ERROR(log->OpenDb(/*create=*/true));
  log->signer_ = signer;
  log->verifier_ = VerifierFor(signer);

  int64_t now = log->NowMs();
  NewEntry genesis{"system", fb::Role::system, fb::EventType::Genesis,
                   EncodeGenesis(origin, signer.key.public_key(), now)};
  Bytes bytes = EncodeEntry(genesis, "", 0, now, Hash{});
  Hash leaf = HashLeaf(bytes);
  rocksdb::WriteBatch batch;
  batch.Put(log->entries_cf_, EntryKey(0), ToSlice(bytes));
  TreeTiles::Put put = log->TreePutInto(batch);
  log->frontier_.Append(leaf, [&](uint8_t level, uint64_t index, const Hash& h) {
    log->edge_tiles_.Add(level, index, h, put);
  });
  log->edge_tiles_.Flush(put);
  batch.Put(log->meta_cf_, kMetaFormat, std::string(kLogFormat));
  batch.Put(log->meta_cf_, kMetaTreeLayout, kTreeLayoutTiles);
  batch.Put(log->meta_cf_, kMetaOrigin, std::string(origin));
  batch.Put(log->meta_cf_, kMetaSize, U64Value(1));
  FL_RETURN_IF_ERROR(log->WriteCheckpoint(&batch, 1, log->frontier_.Root()));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  FL_RETURN_IF_ERROR(FromRocks(log->db_->Write(wo, &batch), "cannot write the genesis entry"));
  log->edge_readers_ = log->edge_tiles_;
  log->drop_covered_rows_.store(true, std::memory_order_release);
  log->last_leaf_hash_ = leaf;
  log->last_timestamp_ms_ = now;
  log->checkpoint_size_ = 1;
  log->last_checkpoint_ms_ = now;
  log->committed_size_.store(1, std::memory_order_release);
  log->StartWriter();
  return log;
}

Result<std::unique_ptr<Log>> Log::Open(const std::string& data_dir, LogOptions options) {
  if (!options.check_tail_on_open && !options.read_only) {
    return InvalidArgument("a store opened for writing is always checked on open");
  }
  std::unique_ptr<Log> log(new Log(data_dir, options));
  FL_RETURN_IF_ERROR(log->OpenDb(/*create=*/false));
  FL_RETURN_IF_ERROR(log->LoadAndCheck());
  if (!options.read_only) {
    log->drop_covered_rows_.store(true, std::memory_order_release);
    FL_ASSIGN_OR_RETURN(NoteSigner signer, ReadSignerKeyFile(SigningKeyPath(data_dir)));
    if (FormatVerifierKey(VerifierFor(signer)) != log->vkey()) {
      return Corruption("signing key " + SigningKeyPath(data_dir) +
                        " is not the key named in the genesis entry");
    }
    log->signer_ = signer;
    log->StartWriter();
  }
  return log;
}

Status Log::CheckFormat() {
  auto meta = [&](const char* key) -> Result<std::string> {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, key, &value);
    if (s.IsNotFound()) return std::string("(none)");
    FL_RETURN_IF_ERROR(FromRocks(s, "cannot read the store's metadata"));
    return "'" + value + "'";
  };
  FL_ASSIGN_OR_RETURN(std::string format, meta(kMetaFormat));
  FL_ASSIGN_OR_RETURN(std::string layout, meta(kMetaTreeLayout));
  const std::string format_read = "'" + std::string(kLogFormat) + "'";
  const std::string layout_read = "'" + std::string(kTreeLayoutTiles) + "'";
  if (format == format_read && layout == layout_read) return Status::Ok();
  return Corruption("store " + StorePath(data_dir_) + " has format " + format +
                    " with tree layout " + layout + "; this build reads only format " +
                    format_read + " with tree layout " + layout_read +
                    ". Recreate the store from its log, e.g. from an audit bundle written by the "
                    "build that wrote this store (`fundledger audit export`)");
}

Status Log::LoadAndCheck() {
  FL_RETURN_IF_ERROR(CheckFormat());
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaSize, &value);
  if (!s.ok() || value.size() != 8) return StoreError(data_dir_, "metadata has no size");
  uint64_t size = GetBigEndian64(reinterpret_cast<const uint8_t*>(value.data()));
  if (size == 0) return StoreError(data_dir_, "metadata size is 0 (no genesis entry)");
  // The entries column must end exactly at size - 1.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), entries_cf_));
    it->SeekToLast();
    if (!it->Valid() || it->key().size() != 8) {
      return StoreError(data_dir_, "entry " + std::to_string(size - 1) + " is missing");
    }
    uint64_t last = GetBigEndian64(reinterpret_cast<const uint8_t*>(it->key().data()));
    if (last > size - 1) {
      return StoreError(data_dir_, "entry " + std::to_string(size) +
                                       " exists beyond the recorded size " + std::to_string(size));
    }
    if (last < size - 1) {
      return StoreError(data_dir_, "entry " + std::to_string(last + 1) + " is missing (size is " +
                                       std::to_string(size) + ")");
    }
  }
  FL_RETURN_IF_ERROR(LoadEdge(size));

  // Genesis names the key everything else is checked against.
  FL_ASSIGN_OR_RETURN(Bytes genesis_bytes, ReadStoredEntry(0));
  Result<NoteVerifier> genesis = GenesisVerifier(genesis_bytes);
  if (!genesis.ok()) return StoreError(data_dir_, "entry 0: " + genesis.status().message());
  verifier_ = *genesis;

  Result<MerkleFrontier> frontier = MerkleFrontier::Load(*this, size);
  if (!frontier.ok()) {
    return StoreError(data_dir_, "tree nodes for size " + std::to_string(size) +
                                     " are missing: " + frontier.status().message());
  }
  frontier_ = *frontier;
  if (!options_.check_tail_on_open) {
    assert(options_.read_only);
    committed_size_.store(size, std::memory_order_release);
    return Status::Ok();
  }

  // Re-verify the tail: structure, index, chain and leaf hashes.
  uint64_t begin = size > kOpenCheckEntries ? size - kOpenCheckEntries : 0;
  Hash prev{};
  if (begin > 0) {
    Result<Hash> p = ReadNode(0, begin - 1);
    if (!p.ok())
      return StoreError(data_dir_, "entry " + std::to_string(begin - 1) + ": no leaf hash");
    prev = *p;
  }
  int64_t last_ts = 0;
  for (uint64_t i = begin; i < size; ++i) {
    std::string at = "entry " + std::to_string(i) + ": ";
    Result<Bytes> bytes = ReadStoredEntry(i);
    if (!bytes.ok()) return StoreError(data_dir_, at + bytes.status().message());
    Result<EntryView> e = DecodeEntry(*bytes);
    if (!e.ok()) return StoreError(data_dir_, at + e.status().message());
    if (e->index != i)
      return StoreError(data_dir_, at + "records index " + std::to_string(e->index));
    if (e->prev_leaf_hash != prev)
      return StoreError(data_dir_,
                        at + "prev_leaf_hash does not match entry " + std::to_string(i - 1));
    Hash leaf = HashLeaf(*bytes);
    Result<Hash> stored = ReadNode(0, i);
    if (!stored.ok() || *stored != leaf)
      return StoreError(data_dir_, at + "leaf hash does not match the tree");
    if (e->timestamp_ms < last_ts) return StoreError(data_dir_, at + "timestamp goes backwards");
    last_ts = e->timestamp_ms;
    prev = leaf;
  }
  last_leaf_hash_ = prev;
  last_timestamp_ms_ = last_ts;

  // The latest checkpoint must be signed by the genesis key and match the tree.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), checkpoints_cf_));
  it->SeekToLast();
  if (!it->Valid()) return StoreError(data_dir_, "no checkpoint is stored");
  Result<Checkpoint> cp = OpenCheckpoint(it->value().ToString(), verifier_);
  if (!cp.ok()) return StoreError(data_dir_, "latest checkpoint: " + cp.status().message());
  if (cp->size > size) {
    return StoreError(data_dir_, "latest checkpoint has size " + std::to_string(cp->size) +
                                     " beyond the log size " + std::to_string(size));
  }
  Result<Hash> root = TreeRoot(*this, cp->size);
  if (!root.ok() || *root != cp->root) {
    return StoreError(data_dir_, "the tree's root at size " + std::to_string(cp->size) +
                                     " differs from the signed checkpoint");
  }
  checkpoint_size_ = cp->size;
  last_checkpoint_ms_ = NowMs();
  committed_size_.store(size, std::memory_order_release);
  return Status::Ok();
}

Status Log::WriteCheckpoint(void* batch_ptr, uint64_t size, const Hash& root) {
  assert(signer_.has_value());
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  std::string note =
      SignNote(FormatCheckpoint(Checkpoint{verifier_.name, size, root, {}}), *signer_);
  return FromRocks(batch->Put(checkpoints_cf_, U64Value(size), note), "cannot stage checkpoint");
}

void Log::StartWriter() {
  writer_ = std::thread([this] { WriterLoop(); });
}

std::future<Result<AppendResult>> Log::Submit(Submission submission) {
  auto pending = std::make_unique<Pending>();
  std::future<Result<AppendResult>> future = pending->promise.get_future();
  auto fail = [&](Status s) {
    pending->promise.set_value(std::move(s));
    return std::move(future);
  };
  if (options_.read_only) return fail(InvalidArgument("the ledger is opened read-only"));
  if (submission.entries.empty())
    return fail(InvalidArgument("a submission needs at least one entry"));
  if (submission.entries.size() > kSubmissionEntriesMax) {
    return fail(TooLarge("a submission holds at most " + std::to_string(kSubmissionEntriesMax) +
                         " entries, got " + std::to_string(submission.entries.size())));
  }
  if (submission.idempotency_key.size() > kIdempotencyKeyBytesMax) {
    return fail(InvalidArgument("idempotency key is longer than " +
                                std::to_string(kIdempotencyKeyBytesMax) + " bytes")
                    .WithField("idempotency_key"));
  }
  for (size_t i = 0; i < submission.entries.size(); ++i) {
    Status s = ValidateNewEntry(submission.entries[i]);
    if (!s.ok()) return fail(s.WithLine(i + 1));
  }
  pending->submission = std::move(submission);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return fail(Overloaded("the ledger is shutting down"));
    if (queue_.size() >= kQueueSubmissionsMax) {
      return fail(Overloaded("the commit queue is full (" + std::to_string(kQueueSubmissionsMax) +
                             " submissions); retry shortly"));
    }
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
  return future;
}

void Log::WriterLoop() {
  QuietRocksDbCounters();
  std::vector<std::unique_ptr<Pending>> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] { return stopping_ || !queue_.empty(); };
      if (options_.checkpoint_interval_ms > 0 && checkpoint_size_ < frontier_.size()) {
        // Committed entries wait for a signed checkpoint: when the interval runs out with no
        // commit to carry one, sign one alone, so proofs never wait for the next submission.
        int64_t left =
            std::clamp<int64_t>(last_checkpoint_ms_ + options_.checkpoint_interval_ms - NowMs(), 0,
                                options_.checkpoint_interval_ms);
        if (!cv_.wait_for(lock, std::chrono::milliseconds(left), ready)) {
          lock.unlock();
          SignPendingCheckpoint();
          continue;
        }
      } else {
        cv_.wait(lock, ready);
      }
      if (queue_.empty()) return;  // stopping, and every submission has been answered
      size_t entries = 0;
      while (!queue_.empty() &&
             (group.empty() ||
              entries + queue_.front()->submission.entries.size() <= kGroupEntriesMax)) {
        entries += queue_.front()->submission.entries.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    group.clear();
  }
}

void Log::CommitGroup(std::vector<std::unique_ptr<Pending>>& group) {
  // Staged state: committed only if the WriteBatch is durable.
  MerkleFrontier frontier = frontier_;
  Hash last_leaf = last_leaf_hash_;
  int64_t timestamp = std::max(NowMs(), last_timestamp_ms_);
  rocksdb::WriteBatch batch;
  std::vector<std::optional<Result<AppendResult>>> results(group.size());
  std::vector<std::pair<std::string, std::string>> staged_keys;  // idempotency within the group
  std::vector<std::tuple<uint8_t, uint64_t, Hash>> upper_nodes;  // for the node cache, once durable
  TreeTiles::Put tree_put = TreePutInto(batch);

  for (size_t g = 0; g < group.size(); ++g) {
    const Submission& sub = group[g]->submission;
    Hash digest = SubmissionDigest(sub);
    if (!sub.idempotency_key.empty()) {
      std::string existing;
      bool found = false;
      for (const auto& [key, value] : staged_keys) {
        if (key == sub.idempotency_key) {
          existing = value;
          found = true;
        }
      }
      if (!found) {
        rocksdb::Status s =
            db_->Get(rocksdb::ReadOptions(), idem_cf_, sub.idempotency_key, &existing);
        if (!s.ok() && !s.IsNotFound()) {
          results[g] = FromRocks(s, "cannot read the idempotency index");
          continue;
        }
        found = s.ok();
      }
      if (found) {
        assert(existing.size() == kIdempotencyValueBytes);
        const auto* v = reinterpret_cast<const uint8_t*>(existing.data());
        if (std::memcmp(v + 16, digest.data(), kHashBytes) != 0) {
          results[g] = Conflict("idempotency key '" + sub.idempotency_key +
                                "' was already used for a different request")
                           .WithField("idempotency_key");
        } else {
          results[g] = AppendResult{GetBigEndian64(v), GetBigEndian64(v + 8), /*replayed=*/true};
        }
        continue;
      }
    }
    uint64_t first = frontier.size();
    if (hook_ != nullptr) {
      batch.SetSavePoint();
      Status staged = hook_->Stage(sub, first, timestamp, batch);
      if (!staged.ok()) {
        rocksdb::Status rb = batch.RollbackToSavePoint();
        assert(rb.ok());
        (void)rb;
        results[g] = staged;
        continue;
      }
      batch.PopSavePoint().PermitUncheckedError();
    }
    for (const VaultWrite& w : sub.vault) {
      if (w.value.empty()) {
        batch.Delete(vault_cf_, w.key);
      } else {
        batch.Put(vault_cf_, w.key, w.value);
      }
    }
    for (const NewEntry& e : sub.entries) {
      Bytes bytes = EncodeEntry(e, sub.idempotency_key, frontier.size(), timestamp, last_leaf);
      assert(bytes.size() <= kEntryBytesMax);
      Hash leaf = HashLeaf(bytes);
      batch.Put(entries_cf_, EntryKey(frontier.size()), ToSlice(bytes));
      frontier.Append(leaf, [&](uint8_t level, uint64_t index, const Hash& h) {
        edge_tiles_.Add(level, index, h, tree_put);
        if (level >= kCachedLevelMin) upper_nodes.emplace_back(level, index, h);
      });
      last_leaf = leaf;
    }
    if (!sub.idempotency_key.empty()) {
      std::string value(kIdempotencyValueBytes, '\0');
      auto* v = reinterpret_cast<uint8_t*>(value.data());
      PutBigEndian64(first, v);
      PutBigEndian64(sub.entries.size(), v + 8);
      std::memcpy(v + 16, digest.data(), kHashBytes);
      batch.Put(idem_cf_, sub.idempotency_key, value);
      staged_keys.emplace_back(sub.idempotency_key, value);
    }
    results[g] = AppendResult{first, sub.entries.size(), false};
  }

  uint64_t new_size = frontier.size();
  const uint64_t frontier_before = frontier_.size();
  Status write_status;
  bool sign = false;
  if (new_size > frontier_.size()) {
    edge_tiles_.Flush(tree_put);  // leaf rows of the entries whose tile is not complete
    batch.Put(meta_cf_, kMetaSize, U64Value(new_size));
    sign = options_.checkpoint_interval_ms == 0 ||
           timestamp - last_checkpoint_ms_ >= options_.checkpoint_interval_ms;
    if (sign) write_status = WriteCheckpoint(&batch, new_size, frontier.Root());
    if (write_status.ok() && write_failed_) {
      // After a failed write RocksDB refuses writes until resumed (space may be back now). It
      // may be resuming by itself in the background; wait a bounded time for that.
      rocksdb::Status resumed = db_->Resume();
      for (int i = 0; i < kResumeAttemptsMax && resumed.IsBusy(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(kResumeWaitMs));
        resumed = db_->Resume();
      }
      if (resumed.ok()) {
        write_failed_ = false;
      } else if (resumed.IsNoSpace()) {
        write_status = FromRocks(resumed, "the store cannot take writes yet, nothing was written");
      } else {
        write_status =
            IoError("the store stopped taking writes after an I/O error (" + resumed.ToString() +
                    "); nothing was written; fix the disk and restart the ledger");
      }
    }
    if (write_status.ok()) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      write_status = FromRocks(db_->Write(wo, &batch), "commit failed, nothing was written");
    }
  }
  if (!write_status.ok()) write_failed_ = true;
  if (hook_ != nullptr) {
    if (write_status.ok()) {
      hook_->Commit();
    } else {
      hook_->Abort();
    }
  }
  if (!write_status.ok() && new_size > frontier_before)
    edge_tiles_ = edge_readers_;  // as committed
  if (write_status.ok()) {
    {
      std::unique_lock lock(edge_mu_);
      edge_readers_.CatchUp(edge_tiles_);
    }
    CacheUpperNodes(upper_nodes);
    frontier_ = frontier;
    last_leaf_hash_ = last_leaf;
    last_timestamp_ms_ = timestamp;
    if (sign) {
      checkpoint_size_ = new_size;
      last_checkpoint_ms_ = timestamp;
    }
    committed_size_.store(new_size, std::memory_order_release);
  }
  if (write_status.ok() && new_size > frontier_before) {
    stat_commits_.fetch_add(1, std::memory_order_relaxed);
    uint64_t appended = new_size - frontier_before;
    stat_entries_.fetch_add(appended, std::memory_order_relaxed);
    if (appended > stat_group_max_.load(std::memory_order_relaxed))
      stat_group_max_.store(appended, std::memory_order_relaxed);
  }
  for (size_t g = 0; g < group.size(); ++g) {
    assert(results[g].has_value());
    bool replayed = results[g]->ok() && (*results[g])->replayed;
    if (write_status.ok() && results[g]->ok() && !replayed) {
      stat_submissions_.fetch_add(1, std::memory_order_relaxed);
    } else if (!replayed) {
      stat_rejected_.fetch_add(1, std::memory_order_relaxed);
    }
    if (!write_status.ok() && results[g]->ok() && !(*results[g])->replayed) {
      group[g]->promise.set_value(write_status);
    } else {
      group[g]->promise.set_value(std::move(*results[g]));
    }
  }
}

Status Log::CheckpointAll(bool sync, const char* failure) {
  assert(checkpoint_size_ < frontier_.size());
  rocksdb::WriteBatch batch;
  Status s = WriteCheckpoint(&batch, frontier_.size(), frontier_.Root());
  if (s.ok()) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    s = FromRocks(db_->Write(wo, &batch), failure);
  }
  if (s.ok()) checkpoint_size_ = frontier_.size();
  return s;
}

void Log::SignPendingCheckpoint() {
  // On failure the next commit resumes the store (write_failed_) and the next interval retries.
  if (!CheckpointAll(options_.sync, "cannot write a checkpoint").ok()) write_failed_ = true;
  last_checkpoint_ms_ = NowMs();
}

Status Log::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  Status status;
  if (db_ && signer_ && checkpoint_size_ < frontier_.size())
    status = CheckpointAll(/*sync=*/true, "cannot write the final checkpoint");
  if (db_ && !options_.read_only) {
    // Every write is already durable in the write-ahead log; flushing it into tables here means
    // the next open (each CLI command, each server start) has nothing to replay.
    rocksdb::FlushOptions fo;
    rocksdb::Status s = db_->Flush(fo, handles_);
    if (status.ok()) status = FromRocks(s, "cannot flush the store on close");
  }
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    rocksdb::Status s = db_->Close();
    if (status.ok()) status = FromRocks(s, "cannot close the store");
    db_.reset();
  }
  return status;
}

Result<Bytes> Log::ReadEntry(uint64_t index) const {
  if (index >= size()) {
    return NotFound("entry " + std::to_string(index) + " does not exist (log size " +
                    std::to_string(size()) + ")");
  }
  return ReadStoredEntry(index);
}

Result<Bytes> Log::ReadStoredEntry(uint64_t index) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), entries_cf_, EntryKey(index), &value);
  if (s.IsNotFound())
    return Corruption("entry " + std::to_string(index) + " is missing from the store");
  FL_RETURN_IF_ERROR(FromRocks(s, "cannot read entry " + std::to_string(index)));
  ByteView b = ToBytes(value);
  return Bytes(b.begin(), b.end());
}

std::optional<Hash> Log::CachedNode(uint8_t level, uint64_t index) const {
  // A one-off reader would pay the load.
  if (options_.read_only || level < kCachedLevelMin) return std::nullopt;
  size_t row = level - kCachedLevelMin;
  {
    std::shared_lock lock(upper_mu_);
    if (upper_loaded_) {
      if (row < upper_.size() && index < upper_[row].size()) return upper_[row][index];
      return std::nullopt;
    }
  }
  std::unique_lock lock(upper_mu_);
  if (!upper_loaded_) LoadUpperNodes();
  if (row < upper_.size() && index < upper_[row].size()) return upper_[row][index];
  return std::nullopt;
}

void Log::LoadUpperNodes() const {
  upper_.clear();
  auto keep = [&](uint8_t level, uint64_t index, const uint8_t* hash) {
    if (level < kCachedLevelMin) return;
    size_t row = level - kCachedLevelMin;
    if (row >= upper_.size()) upper_.resize(row + 1);
    if (index != upper_[row].size()) return;  // only a gapless prefix is cached
    Hash h;
    std::memcpy(h.data(), hash, kHashBytes);
    upper_[row].push_back(h);
  };
  // The edge before the tiles: a tile completed in between is then in the tiles read, and
  // what commits add after the edge was copied reaches the cache through CacheUpperNodes.
  TreeTiles edge;
  {
    std::shared_lock lock(edge_mu_);
    edge = edge_readers_;
  }
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, tree_cf_));
  // Tiles by tile level, then index: each level's nodes in index order.
  for (it->Seek(TileKey(0, 0)); it->Valid(); it->Next()) {
    std::optional<std::pair<uint8_t, uint64_t>> tile =
        ParseTileKey(std::string_view(it->key().data(), it->key().size()));
    if (!tile) continue;
    Result<TileView> view = TileView::Parse(ToBytes(it->value()), "tree tile");
    if (!view.ok()) continue;  // ReadNode reports it
    for (uint8_t r = 0; r < kTileHeight; ++r) {
      uint64_t first = tile->second * (kTileWidth >> r);
      for (uint32_t p = 0; p < (kTileWidth >> r); ++p)
        keep(static_cast<uint8_t>(tile->first * kTileHeight + r), first + p, view->Node(r, p));
    }
  }
  edge.ForEachNode(
      [&](uint8_t level, uint64_t index, const Hash& h) { keep(level, index, h.data()); });
  // On a read error the cache holds what was read; everything else is read from the store.
  upper_loaded_ = true;
}

void Log::CacheUpperNodes(const std::vector<std::tuple<uint8_t, uint64_t, Hash>>& nodes) {
  std::unique_lock lock(upper_mu_);
  if (!upper_loaded_) return;  // the first read will load them from the store
  for (const auto& [level, index, hash] : nodes) {
    size_t row = level - kCachedLevelMin;
    if (row >= upper_.size()) upper_.resize(row + 1);
    if (index == upper_[row].size()) upper_[row].push_back(hash);  // nodes complete in index order
  }
}

Result<Hash> Log::ReadNode(uint8_t level, uint64_t index) const {
  if (std::optional<Hash> cached = CachedNode(level, index)) return *cached;
  if (level >= 64) {
    return NotFound("tree node at level " + std::to_string(level) + " index " +
                    std::to_string(index) + " is missing");
  }
  return ReadTiledNode(level, index);
}

Result<Hash> Log::ReadTiledNode(uint8_t level, uint64_t index) const {
  auto missing = [&] {
    return NotFound("tree node at level " + std::to_string(level) + " index " +
                    std::to_string(index) + " is missing");
  };
  bool in_edge = false;
  {
    std::shared_lock lock(edge_mu_);
    std::optional<Hash> h = edge_readers_.Node(level, index, &in_edge);
    if (h) return *h;
  }
  if (in_edge) return missing();  // not complete yet
  TilePlace p = PlaceOfNode(level, index);
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), tree_cf_, TileKey(p.tile_level, p.tile_index), &value);
  if (s.IsNotFound()) return missing();
  FL_RETURN_IF_ERROR(FromRocks(s, "cannot read a tree tile"));
  FL_ASSIGN_OR_RETURN(
      TileView tile,
      TileView::Parse(ToBytes(value), "tree tile (" + std::to_string(p.tile_level) + ", " +
                                          std::to_string(p.tile_index) + ")"));
  Hash h;
  std::memcpy(h.data(), tile.Node(p.row, p.position), kHashBytes);
  return h;
}

Result<std::string> Log::LatestCheckpoint() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), checkpoints_cf_));
  it->SeekToLast();
  FL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read checkpoints"));
  if (!it->Valid()) return NotFound("no checkpoint is stored");
  return it->value().ToString();
}

Result<std::string> Log::CheckpointAt(uint64_t size) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), checkpoints_cf_, U64Value(size), &value);
  if (s.IsNotFound()) return NotFound("no checkpoint was signed at size " + std::to_string(size));
  FL_RETURN_IF_ERROR(FromRocks(s, "cannot read a checkpoint"));
  return value;
}

Status Log::ScanEntries(uint64_t begin, uint64_t end,
                        const std::function<Status(uint64_t, ByteView)>& fn) const {
  return Scan(begin, end, /*aligned=*/true, fn);
}

Status Log::ScanEntriesUnaligned(uint64_t begin, uint64_t end,
                                 const std::function<Status(uint64_t, ByteView)>& fn) const {
  return Scan(begin, end, /*aligned=*/false, fn);
}

Status Log::Scan(uint64_t begin, uint64_t end, bool aligned,
                 const std::function<Status(uint64_t, ByteView)>& fn) const {
  end = std::min(end, size());
  if (begin >= end) return Status::Ok();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a full scan should not evict the hot set
  ro.readahead_size = 2 << 20;
  QuietRocksDbCounters();
  std::string upper = EntryKey(end);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_cf_));
  uint64_t expected = begin;
  std::vector<uint64_t> words;  // RocksDB values are not aligned; entries are decoded in place
  for (it->Seek(EntryKey(begin)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Corruption("entries column holds a key that is not 8 bytes");
    uint64_t index = GetBigEndian64(reinterpret_cast<const uint8_t*>(it->key().data()));
    if (index != expected)
      return Corruption("entry " + std::to_string(expected) + " is missing from the store");
    rocksdb::Slice value = it->value();
    ByteView bytes(reinterpret_cast<const uint8_t*>(value.data()), value.size());
    if (aligned) {
      words.resize((value.size() + 7) / 8);
      std::memcpy(words.data(), value.data(), value.size());
      bytes = ByteView(reinterpret_cast<const uint8_t*>(words.data()), value.size());
    }
    FL_RETURN_IF_ERROR(fn(index, bytes));
    ++expected;
  }
  FL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot scan entries"));
  if (expected != end)
    return Corruption("entry " + std::to_string(expected) + " is missing from the store");
  return Status::Ok();
}

Status Log::ScanCheckpoints(const std::function<Status(uint64_t, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), checkpoints_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8)
      return Corruption("checkpoints column holds a key that is not 8 bytes");
    FL_RETURN_IF_ERROR(fn(GetBigEndian64(reinterpret_cast<const uint8_t*>(it->key().data())),
                          std::string_view(it->value().data(), it->value().size())));
  }
  return FromRocks(it->status(), "cannot scan checkpoints");
}

Log::Stats Log::stats() const {
  Stats s;
  s.commits = stat_commits_.load(std::memory_order_relaxed);
  s.submissions = stat_submissions_.load(std::memory_order_relaxed);
  s.entries = stat_entries_.load(std::memory_order_relaxed);
  s.rejected = stat_rejected_.load(std::memory_order_relaxed);
  s.group_entries_max = stat_group_max_.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.queue_depth = queue_.size();
  }
  return s;
}

void Log::SetCommitHook(CommitHook* hook) {
  std::lock_guard<std::mutex> lock(mu_);  // orders the store before the writer's next group
  hook_ = hook;
}

Result<uint64_t> Log::IndexAtTime(int64_t timestamp_ms) const {
  uint64_t lo = 0, hi = size();  // find the first index with timestamp > t
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    FL_ASSIGN_OR_RETURN(Bytes bytes, ReadEntry(mid));
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    if (e.timestamp_ms <= timestamp_ms) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return NotFound("no entry is as old as " + std::to_string(timestamp_ms) + " ms");
  return lo - 1;
}

namespace {

rocksdb::ReadOptions CursorReadOptions(const rocksdb::Slice* upper_bound, bool fill_cache) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = fill_cache;
  // RocksDB's own readahead grows with sequential reads: a chunk's upper levels hold few
  // nodes, and a fixed 1 MiB per cursor cost more in copies than the nodes themselves.
  ro.readahead_size = 0;
  ro.iterate_upper_bound = upper_bound;
  QuietRocksDbCounters();
  return ro;
}

// One level's nodes in layout 2: from its complete tiles (one iterator step per tile, each
// node copied out of the tile in place), then, past the tiles the iterator sees, one lookup
// each (the edge, in memory, or a tile completed since the cursor opened).
class TileNodeCursor final : public NodeCursor {
 public:
  TileNodeCursor(const Log& log, rocksdb::ColumnFamilyHandle* cf, uint8_t level, uint64_t start)
      : log_(log),
        level_(level),
        next_(start),
        place_(PlaceOfNode(level, start)),
        upper_(TileKey(static_cast<uint8_t>(place_.tile_level + 1), 0)),
        upper_slice_(upper_) {
    // Through the block cache: the cursors of a tile level's eight rows read the same tiles at
    // about the same time, and the first read serves the other seven (1M entries: -0.25 s CPU).
    it_.reset(log.db()->NewIterator(CursorReadOptions(&upper_slice_, /*fill_cache=*/true), cf));
    it_->Seek(TileKey(place_.tile_level, place_.tile_index));
  }
  Result<Hash> Next() override {
    if (!it_) return log_.ReadNode(level_, next_++);
    if (!tile_read_) {
      if (!it_->Valid() || std::string_view(it_->key().data(), it_->key().size()) !=
                               TileKey(place_.tile_level, place_.tile_index)) {
        if (!it_->Valid() && !it_->status().ok())
          return FromRocks(it_->status(), "cannot read the tree");
        it_.reset();
        return log_.ReadNode(level_, next_++);
      }
      Result<TileView> view = TileView::Parse(
          ToBytes(it_->value()), "tree tile (" + std::to_string(place_.tile_level) + ", " +
                                     std::to_string(place_.tile_index) + ")");
      if (!view.ok()) return view.status();
      tile_ = *view;
      tile_read_ = true;
    }
    Hash h;
    std::memcpy(h.data(), tile_.Node(place_.row, place_.position), kHashBytes);
    ++next_;
    if (++place_.position == kTileWidth >> place_.row) {  // the row ends: on to the next tile
      place_.position = 0;
      ++place_.tile_index;
      tile_read_ = false;
      it_->Next();
    }
    return h;
  }

 private:
  const Log& log_;
  uint8_t level_;
  uint64_t next_;
  TilePlace place_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;  // null once past the tiles it sees
  TileView tile_;                          // points into the iterator's current value
  bool tile_read_ = false;
};

}  // namespace

std::unique_ptr<NodeCursor> Log::OpenNodeCursor(uint8_t level, uint64_t start) const {
  return std::make_unique<TileNodeCursor>(*this, tree_cf_, level, start);
}

TreeTiles::Put Log::TreePutInto(rocksdb::WriteBatch& batch) const {
  return [this, &batch](std::string key, std::string value) { batch.Put(tree_cf_, key, value); };
}

Status Log::LoadEdge(uint64_t size) {
  auto read = [&](std::string_view key) -> Result<std::string> {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), tree_cf_, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return NotFound("it is missing");
    FL_RETURN_IF_ERROR(FromRocks(s, "cannot read it"));
    return value;
  };
  // Nothing beyond the size: no leaf row, no tile past the complete ones.
  if (read(LeafRowKey(size)).ok()) {
    return StoreError(data_dir_, "entry " + std::to_string(size) +
                                     " is missing but the tree holds its leaf (recorded size " +
                                     std::to_string(size) + ": the tail was cut)");
  }
  for (uint8_t tile_level = 0; tile_level * kTileHeight < 64u; ++tile_level) {
    const uint64_t complete = (size >> (tile_level * kTileHeight)) / kTileWidth;
    if (read(TileKey(tile_level, complete)).ok()) {
      return StoreError(data_dir_, "entry " + std::to_string(size) + " is missing but tree tile (" +
                                       std::to_string(tile_level) + ", " +
                                       std::to_string(complete) +
                                       ") over it is stored (recorded size " +
                                       std::to_string(size) + ": the tail was cut)");
    }
    if (complete == 0) break;
  }
  Result<TreeTiles> edge = TreeTiles::Derive(size, read);
  if (!edge.ok()) return StoreError(data_dir_, edge.status().message());
  edge_tiles_ = *edge;
  std::unique_lock lock(edge_mu_);
  edge_readers_ = std::move(*edge);
  return Status::Ok();
}

Result<std::vector<Hash>> Log::ProveInclusion(uint64_t index, uint64_t size) const {
  if (size > this->size()) {
    return NotFound("size " + std::to_string(size) + " is beyond the log size " +
                    std::to_string(this->size()));
  }
  return InclusionProof(*this, index, size);
}

Result<std::vector<Hash>> Log::ProveConsistency(uint64_t old_size, uint64_t size) const {
  if (size > this->size()) {
    return NotFound("size " + std::to_string(size) + " is beyond the log size " +
                    std::to_string(this->size()));
  }
  return ConsistencyProof(*this, old_size, size);
}

}  // namespace fundledger
