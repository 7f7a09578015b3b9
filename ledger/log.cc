#include "ledger/log.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <filesystem>

#include "crypto/key_file.h"
#include "ledger/rocksdb_bridge.h"
#include "ledger/store_logger.h"

namespace fundledger {
namespace {

// The writer resumes the store itself after a failed write, before its next commit, so
// RocksDB's own background recovery (which would hold the store busy) is switched off.
class ManualRecovery final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

// The column families in the order of their handles.
constexpr const char* kColumns[] = {"default",          kEntriesColumn, kTreeColumn,
                                    kIdempotencyColumn, kMetaColumn,    kCheckpointsColumn,
                                    kProjectionsColumn, kVaultColumn};

rocksdb::ColumnFamilyOptions ColumnOptions(std::string_view name,
                                           const rocksdb::CompactionFilter* tree_filter) {
  rocksdb::ColumnFamilyOptions options;
  // Keys arrive in runs that ascend within their first byte (entry indices, tree levels,
  // projection row kinds): a remembered insert position per first byte spares most of the
  // memtable's skip-list search.
  options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
  if (name == kTreeColumn) {
    // Tree nodes are hashes: they never compress, so trying costs ingest and verification time.
    options.compression = rocksdb::kNoCompression;
    options.compaction_filter = tree_filter;
  }
  // Entries: LZ4, not RocksDB's default Snappy. A full scan spent ~7% of `fundledger verify`'s
  // CPU in Snappy's decompression; LZ4's is faster at the same size (1M entries: 134 MB against
  // 137 MB; uncompressed 355 MB for a further ~5%). Blocks name their compression, so a store
  // written with Snappy reads as before and compacts into LZ4.
  if (name == kEntriesColumn) options.compression = rocksdb::kLZ4Compression;
  // Proofs and entry reads are point lookups: a Bloom filter (~10 bits a key) lets each one
  // skip the tables of the levels that do not hold the key instead of searching their blocks.
  if (name == kTreeColumn || name == kEntriesColumn) {
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Entries are read mostly in full scans (verify, replay, export): 16 KiB blocks (RocksDB's
    // default is 4) take a quarter of the per-block work and compress 8% smaller; a point read
    // decompresses a few microseconds more. Tree nodes stay in 4 KiB blocks for proofs.
    if (name == kEntriesColumn) table.block_size = 16 << 10;
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  }
  return options;
}

// Calls fn(index, bytes) for the entries of the stored bundle that starts at `first` whose
// index lies in [begin, end), in order; refuses a bundle that does not hold exactly
// kBundleEntries entries. A template: a scan calls fn for every entry of the log.
template <typename Fn>
Status ForEachBundled(uint64_t first, ByteView bundle, uint64_t begin, uint64_t end, Fn&& fn) {
  auto malformed = [&](const std::string& why) {
    return Corruption("the entry bundle of entries " + std::to_string(first) + ".." +
                      std::to_string(first + kBundleEntries - 1) + " " + why);
  };
  size_t at = 0;
  for (uint64_t i = first; i < first + kBundleEntries; ++i) {
    if (bundle.size() - at < kBundleLengthBytes)
      return malformed("ends before entry " + std::to_string(i));
    const size_t length = size_t{bundle[at]} << 8 | bundle[at + 1];
    at += kBundleLengthBytes;
    if (bundle.size() - at < length) return malformed("ends inside entry " + std::to_string(i));
    if (i >= begin) {
      if (i >= end) return Status::Ok();
      FL_RETURN_IF_ERROR(fn(i, bundle.subspan(at, length)));
    }
    at += length;
  }
  if (at != bundle.size()) return malformed("holds bytes after its last entry");
  return Status::Ok();
}

}  // namespace

Log::Log(std::string data_dir, LogOptions options)
    : data_dir_(std::move(data_dir)),
      options_(std::move(options)),
      own_clock_(options_.clock == nullptr && options_.now_ms
                     ? std::make_unique<FunctionLogClock>(options_.now_ms)
                     : nullptr),
      clock_(options_.clock != nullptr ? *options_.clock
             : own_clock_              ? *own_clock_
                                       : SystemLogClock()) {}

Log::~Log() {
  Status s = Close();
  (void)s;  // a destructor cannot report; callers who care call Close() themselves
}

Status Log::StoreError(std::string why) const {
  return Corruption("store " + data_dir_ +
                    " is inconsistent and was not opened: " + std::move(why));
}

Status Log::OpenDb(bool create) {
  rocksdb::DBOptions db_options;
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
  // RocksDB's own LOG file would sit on the data disk, and its writer aborts when that disk is
  // full: the info log goes to stderr, warnings and errors only.
  db_options.info_log = std::make_shared<StoreLogger>();
  db_options.max_bgerror_resume_count = 0;
  // A read-only open (verify, replay, the CLI's other reads) reads the table files through a
  // mapping instead of copying each block out of the page cache: verify of 1M entries -4% CPU.
  // The mapped pages count in the process's resident memory, as page cache, not as its own.
  db_options.allow_mmap_reads = options_.read_only;
  db_options.listeners.push_back(std::make_shared<ManualRecovery>());
  if (!options_.read_only)
    tree_row_filter_ = NewTreeRowFilter(tree_rows_droppable_, committed_size_);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : kColumns)
    cfs.emplace_back(name, ColumnOptions(name, tree_row_filter_.get()));
  if (create) {
    // Made here, empty: RocksDB would log reading a missing directory as an error, on every
    // new ledger's first start.
    std::error_code ec;
    std::filesystem::create_directory(StorePath(data_dir_), ec);
    if (ec) return IoError("cannot create " + StorePath(data_dir_) + ": " + ec.message());
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
  assert(handles_.size() == std::size(kColumns));
  columns_ = LogColumns{db,          handles_[1], handles_[2], handles_[3],
                        handles_[4], handles_[5], handles_[6], handles_[7]};
  tree_ =
      std::make_unique<TreeStore>(db, columns_.tree, /*cache_upper_levels=*/!options_.read_only);
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
  log->verifier_ = VerifierFor(signer);
  const int64_t now = log->clock_.NowMs();
  NewEntry genesis{"system", fb::Role::system, fb::EventType::Genesis,
                   EncodeGenesis(origin, signer.key.public_key(), now)};
  log->writer_ = std::make_unique<LogWriter>(
      log->columns_, *log->tree_, signer, log->clock_, log->committed_size_,
      LogWriter::Options{options.sync, options.checkpoint_interval_ms, options.log_of_record},
      LogTip{});
  FL_RETURN_IF_ERROR(log->writer_->WriteGenesis(genesis, now,
                                                {{kMetaFormat, std::string(kLogFormat)},
                                                 {kMetaTreeLayout, std::string(kTreeLayout)},
                                                 {kMetaOrigin, std::string(origin)}}));
  log->tree_rows_droppable_.store(true, std::memory_order_release);
  log->writer_->Start();
  return log;
}

Result<std::unique_ptr<Log>> Log::CreateReplica(const std::string& data_dir, const Bytes& genesis,
                                                const std::string& checkpoint_note,
                                                LogOptions options) {
  assert(!options.read_only);
  if (std::filesystem::exists(StorePath(data_dir)))
    return Conflict("a ledger already exists at " + data_dir);
  FL_ASSIGN_OR_RETURN(NoteSigner signer, ReadSignerKeyFile(SigningKeyPath(data_dir)));
  FL_ASSIGN_OR_RETURN(NoteVerifier verifier, GenesisVerifier(genesis));
  if (FormatVerifierKey(VerifierFor(signer)) != FormatVerifierKey(verifier)) {
    return Corruption("signing key " + SigningKeyPath(data_dir) +
                      " is not the key named in the log of record's genesis entry");
  }
  FL_ASSIGN_OR_RETURN(Checkpoint checkpoint, OpenCheckpoint(checkpoint_note, verifier));
  if (checkpoint.size != 1 || checkpoint.root != HashLeaf(genesis))
    return Corruption("the log of record's first checkpoint does not sign its genesis entry");
  std::unique_ptr<Log> log(new Log(data_dir, options));
  FL_RETURN_IF_ERROR(log->OpenDb(/*create=*/true));
  log->verifier_ = verifier;
  log->writer_ = std::make_unique<LogWriter>(
      log->columns_, *log->tree_, std::move(signer), log->clock_, log->committed_size_,
      LogWriter::Options{options.sync, options.checkpoint_interval_ms, options.log_of_record},
      LogTip{});
  FL_RETURN_IF_ERROR(log->writer_->WriteReplicatedGenesis(
      ReplicatedGroup{{genesis}, checkpoint_note, {}}, {{kMetaFormat, std::string(kLogFormat)},
                                                        {kMetaTreeLayout, std::string(kTreeLayout)},
                                                        {kMetaOrigin, verifier.name}}));
  log->tree_rows_droppable_.store(true, std::memory_order_release);
  log->writer_->Start();
  return log;
}

Result<std::unique_ptr<Log>> Log::Open(const std::string& data_dir, LogOptions options) {
  if (!options.check_tail_on_open && !options.read_only) {
    return InvalidArgument("a store opened for writing is always checked on open");
  }
  std::unique_ptr<Log> log(new Log(data_dir, options));
  FL_RETURN_IF_ERROR(log->OpenDb(/*create=*/false));
  FL_ASSIGN_OR_RETURN(LogTip tip, log->LoadAndCheck());
  if (options.read_only) return log;
  if (log->singles_format_) FL_RETURN_IF_ERROR(log->ConvertToBundles(log->size()));
  log->tree_rows_droppable_.store(true, std::memory_order_release);
  FL_ASSIGN_OR_RETURN(NoteSigner signer, ReadSignerKeyFile(SigningKeyPath(data_dir)));
  if (FormatVerifierKey(VerifierFor(signer)) != log->vkey()) {
    return Corruption("signing key " + SigningKeyPath(data_dir) +
                      " is not the key named in the genesis entry");
  }
  log->writer_ = std::make_unique<LogWriter>(
      log->columns_, *log->tree_, std::move(signer), log->clock_, log->committed_size_,
      LogWriter::Options{options.sync, options.checkpoint_interval_ms, options.log_of_record},
      std::move(tip));
  log->writer_->Start();
  return log;
}

Status Log::CheckFormat() {
  auto meta = [&](const char* key) -> Result<std::string> {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), columns_.meta, key, &value);
    if (s.IsNotFound()) return std::string("(none)");
    FL_RETURN_IF_ERROR(FromRocks(s, "cannot read the store's metadata"));
    return "'" + value + "'";
  };
  FL_ASSIGN_OR_RETURN(std::string format, meta(kMetaFormat));
  FL_ASSIGN_OR_RETURN(std::string layout, meta(kMetaTreeLayout));
  const std::string format_read = "'" + std::string(kLogFormat) + "'";
  const std::string singles_read = "'" + std::string(kLogFormatSingles) + "'";
  const std::string layout_read = "'" + std::string(kTreeLayout) + "'";
  singles_format_ = format == singles_read;
  if ((format == format_read || singles_format_) && layout == layout_read) return Status::Ok();
  return Corruption("store " + StorePath(data_dir_) + " has format " + format +
                    " with tree layout " + layout + "; this build reads only format " +
                    format_read + " (or " + singles_read + ") with tree layout " + layout_read +
                    ". Recreate the store from its log, e.g. from an audit bundle written by the "
                    "build that wrote this store (`fundledger audit export`)");
}

Result<uint64_t> Log::LoadSize() {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), columns_.meta, kMetaSize, &value);
  if (!s.ok() || value.size() != kU64Bytes) return StoreError("metadata has no size");
  const uint64_t size = ReadU64(value);
  if (size == 0) return StoreError("metadata size is 0 (no genesis entry)");
  // The entries column must end exactly at size - 1.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), columns_.entries));
  it->SeekToLast();
  std::optional<EntriesKey> key;
  if (it->Valid()) key = ParseEntriesKey(std::string_view(it->key().data(), it->key().size()));
  if (!key) return StoreError("entry " + std::to_string(size - 1) + " is missing");
  const uint64_t last = key->first_index + (key->bundle ? kBundleEntries - 1 : 0);
  if (last > size - 1) {
    return StoreError("entry " + std::to_string(size) + " exists beyond the recorded size " +
                      std::to_string(size));
  }
  if (last < size - 1) {
    return StoreError("entry " + std::to_string(last + 1) + " is missing (size is " +
                      std::to_string(size) + ")");
  }
  Status edge = tree_->LoadEdge(size);
  if (!edge.ok()) return StoreError(edge.message());
  return size;
}

Result<LogTip> Log::LoadAndCheck() {
  FL_RETURN_IF_ERROR(CheckFormat());
  FL_ASSIGN_OR_RETURN(const uint64_t size, LoadSize());
  // Genesis names the key everything else is checked against.
  FL_ASSIGN_OR_RETURN(Bytes genesis_bytes, ReadStoredEntry(0));
  Result<NoteVerifier> genesis = GenesisVerifier(genesis_bytes);
  if (!genesis.ok()) return StoreError("entry 0: " + genesis.status().message());
  verifier_ = *genesis;

  LogTip tip;
  Result<MerkleFrontier> frontier = MerkleFrontier::Load(*this, size);
  if (!frontier.ok()) {
    return StoreError("tree nodes for size " + std::to_string(size) +
                      " are missing: " + frontier.status().message());
  }
  tip.frontier = *std::move(frontier);
  if (options_.check_tail_on_open) {
    FL_RETURN_IF_ERROR(CheckTail(size, tip));
    FL_ASSIGN_OR_RETURN(tip.checkpoint_size, CheckLatestCheckpoint(size));
  } else {
    assert(options_.read_only);
  }
  committed_size_.store(size, std::memory_order_release);
  return tip;
}

Status Log::CheckTail(uint64_t size, LogTip& tip) {
  const uint64_t begin = size > kOpenCheckEntries ? size - kOpenCheckEntries : 0;
  Hash prev{};
  if (begin > 0) {
    Result<Hash> p = ReadNode(0, begin - 1);
    if (!p.ok()) return StoreError("entry " + std::to_string(begin - 1) + ": no leaf hash");
    prev = *p;
  }
  int64_t last_ts = 0;
  for (uint64_t i = begin; i < size; ++i) {
    const std::string at = "entry " + std::to_string(i) + ": ";
    Result<Bytes> bytes = ReadStoredEntry(i);
    if (!bytes.ok()) return StoreError(at + bytes.status().message());
    Result<EntryView> e = DecodeEntry(*bytes);
    if (!e.ok()) return StoreError(at + e.status().message());
    if (e->index != i) return StoreError(at + "records index " + std::to_string(e->index));
    if (e->prev_leaf_hash != prev)
      return StoreError(at + "prev_leaf_hash does not match entry " + std::to_string(i - 1));
    const Hash leaf = HashLeaf(*bytes);
    Result<Hash> stored = ReadNode(0, i);
    if (!stored.ok() || *stored != leaf)
      return StoreError(at + "leaf hash does not match the tree");
    if (e->timestamp_ms < last_ts) return StoreError(at + "timestamp goes backwards");
    last_ts = e->timestamp_ms;
    prev = leaf;
  }
  tip.last_leaf_hash = prev;
  tip.last_timestamp_ms = last_ts;
  return Status::Ok();
}

Result<uint64_t> Log::CheckLatestCheckpoint(uint64_t size) {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), columns_.checkpoints));
  it->SeekToLast();
  if (!it->Valid()) return StoreError("no checkpoint is stored");
  Result<Checkpoint> cp = OpenCheckpoint(it->value().ToString(), verifier_);
  if (!cp.ok()) return StoreError("latest checkpoint: " + cp.status().message());
  if (cp->size > size) {
    return StoreError("latest checkpoint has size " + std::to_string(cp->size) +
                      " beyond the log size " + std::to_string(size));
  }
  Result<Hash> root = TreeRoot(*this, cp->size);
  if (!root.ok() || *root != cp->root) {
    return StoreError("the tree's root at size " + std::to_string(cp->size) +
                      " differs from the signed checkpoint");
  }
  return cp->size;
}

Status Log::ConvertToBundles(uint64_t size) {
  constexpr size_t kConvertBatchBytesMax = 8 << 20;  // bounds the memory of one write
  rocksdb::WriteOptions durable;
  durable.sync = true;
  rocksdb::WriteBatch batch;
  std::vector<ByteView> bundle;
  std::vector<Bytes> entries;
  for (uint64_t start = 0; start + kBundleEntries <= size; start += kBundleEntries) {
    // A bundle converted before a crash has no single of its first entry left.
    std::string first;
    if (db_->Get(rocksdb::ReadOptions(), columns_.entries, EntryKey(start), &first).IsNotFound())
      continue;
    entries.clear();
    bundle.clear();
    FL_RETURN_IF_ERROR(Scan(start, start + kBundleEntries, ScanOptions{.aligned = false},
                            [&](uint64_t, ByteView bytes) {
                              entries.emplace_back(bytes.begin(), bytes.end());
                              return Status::Ok();
                            }));
    for (uint64_t i = start; i < start + kBundleEntries; ++i)
      batch.Delete(columns_.entries, EntryKey(i));
    for (const Bytes& e : entries) bundle.push_back(e);
    batch.Put(columns_.entries, BundleKey(start), EncodeEntryBundle(bundle));
    if (batch.GetDataSize() >= kConvertBatchBytesMax) {
      FL_RETURN_IF_ERROR(FromRocks(db_->Write(durable, &batch), "cannot convert to entry bundles"));
      batch.Clear();
    }
  }
  batch.Put(columns_.meta, kMetaFormat, std::string(kLogFormat));
  FL_RETURN_IF_ERROR(FromRocks(db_->Write(durable, &batch), "cannot convert to entry bundles"));
  singles_format_ = false;
  // Once: the deleted singles would otherwise stay in the tables, each a step of every scan,
  // until compactions reach them.
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(db_->CompactRange(compact, columns_.entries, nullptr, nullptr),
                   "cannot compact the converted entries");
}

Status Log::ForgetDeletedVaultRows() {
  assert(!options_.read_only);
  // A write-ahead log file is deleted only once every column it holds writes of is flushed.
  std::vector<rocksdb::ColumnFamilyHandle*> all{
      columns_.entries,     columns_.tree,        columns_.idempotency, columns_.meta,
      columns_.checkpoints, columns_.projections, columns_.vault};
  rocksdb::Status s = db_->Flush(rocksdb::FlushOptions(), all);
  if (!s.ok()) return IoError("cannot flush the store: " + s.ToString());
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  s = db_->CompactRange(compact, columns_.vault, nullptr, nullptr);
  if (!s.ok()) return IoError("cannot compact the vault: " + s.ToString());
  return Status::Ok();
}

Status Log::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status status;
  if (writer_) status = writer_->Close();
  if (db_ && !options_.read_only) {
    // Every write is already durable in the write-ahead log; flushing it into tables here means
    // the next open (each CLI command, each server start) has nothing to replay.
    rocksdb::Status s = db_->Flush(rocksdb::FlushOptions(), handles_);
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

std::future<Result<AppendResult>> Log::Submit(Submission submission) {
  if (writer_ == nullptr) {
    std::promise<Result<AppendResult>> refused;
    refused.set_value(Overloaded("the ledger is opened read-only: writes are refused"));
    return refused.get_future();
  }
  return writer_->Submit(std::move(submission));
}

Result<AppendResult> Log::AppendReplicated(const ReplicatedGroup& group) {
  if (writer_ == nullptr) return InvalidArgument("the log was opened read-only");
  return writer_->SubmitReplicated(group).get();  // the writer reads `group` until this answer
}

Log::Stats Log::stats() const { return writer_ ? writer_->stats() : Stats{}; }

void Log::SetCommitHook(CommitHook* hook) {
  if (writer_) writer_->SetCommitHook(hook);
}

Result<Bytes> Log::ReadEntry(uint64_t index) const {
  if (index >= size()) {
    return NotFound("entry " + std::to_string(index) + " does not exist (log size " +
                    std::to_string(size()) + ")");
  }
  return ReadStoredEntry(index);
}

Result<std::optional<IdempotencyRecord>> Log::FindIdempotencyRecord(const std::string& key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), columns_.idempotency, key, &value);
  if (s.IsNotFound()) return std::optional<IdempotencyRecord>();
  FL_RETURN_IF_ERROR(FromRocks(s, "cannot read the idempotency index"));
  FL_ASSIGN_OR_RETURN(IdempotencyRecord record, DecodeIdempotencyRecord(value));
  return std::optional<IdempotencyRecord>(record);
}

Result<std::string> Log::ReadEntryBundle(uint64_t first, uint64_t width) const {
  assert(first % kBundleEntries == 0 && width <= kBundleEntries);
  if (first + width > size()) {
    return NotFound("entries " + std::to_string(first) + ".." + std::to_string(first + width - 1) +
                    " are beyond the log");
  }
  if (width == kBundleEntries) {
    std::string stored;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), columns_.entries, BundleKey(first), &stored);
    if (s.ok()) return stored;
    if (!s.IsNotFound())
      return FromRocks(s, "cannot read the bundle of entry " + std::to_string(first));
  }
  std::vector<Bytes> entries;  // a partial bundle, or a store of kLogFormatSingles
  FL_RETURN_IF_ERROR(
      Scan(first, first + width, ScanOptions{.aligned = false}, [&](uint64_t, ByteView bytes) {
        entries.emplace_back(bytes.begin(), bytes.end());
        return Status::Ok();
      }));
  return EncodeEntryBundle(std::vector<ByteView>(entries.begin(), entries.end()));
}

Result<Bytes> Log::ReadStoredEntry(uint64_t index) const {
  const std::string at = "cannot read entry " + std::to_string(index);
  rocksdb::PinnableSlice value;
  Bytes entry;
  auto in_bundle = [&]() -> Result<bool> {
    value.Reset();
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), columns_.entries, BundleKey(BundleStart(index)), &value);
    if (s.IsNotFound()) return false;
    FL_RETURN_IF_ERROR(FromRocks(s, at));
    FL_RETURN_IF_ERROR(ForEachBundled(BundleStart(index), ToBytes(value), index, index + 1,
                                      [&](uint64_t, ByteView bytes) {
                                        entry.assign(bytes.begin(), bytes.end());
                                        return Status::Ok();
                                      }));
    return true;
  };
  auto single = [&]() -> Result<bool> {
    value.Reset();
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), columns_.entries, EntryKey(index), &value);
    if (s.IsNotFound()) return false;
    FL_RETURN_IF_ERROR(FromRocks(s, at));
    ByteView b = ToBytes(value);
    entry.assign(b.begin(), b.end());
    return true;
  };
  // The form the entry most likely has first. A commit (or the conversion of a store of
  // kLogFormatSingles) replaces the singles of a bundle with the bundle in one write, so an
  // entry missed in one form between two reads is in the bundle on the third.
  const bool bundled = index < BundleStart(size());
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<bool> found = (attempt % 2 == 0) == bundled ? in_bundle() : single();
    if (!found.ok()) return found.status();
    if (*found) return entry;
  }
  return Corruption("entry " + std::to_string(index) + " is missing from the store");
}

Result<Hash> Log::ReadNode(uint8_t level, uint64_t index) const {
  return tree_->ReadNode(level, index);
}

std::unique_ptr<NodeCursor> Log::OpenNodeCursor(uint8_t level, uint64_t start) const {
  return tree_->OpenNodeCursor(level, start);
}

std::unique_ptr<TreeCursor> Log::OpenTreeCursor() const { return tree_->OpenTreeCursor(); }

std::unique_ptr<TreeCursor> Log::OpenTreeCursorHashChecked() const {
  return tree_->OpenTreeCursor(/*hashes_checked=*/true);
}

Result<std::string> Log::LatestCheckpoint() const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), columns_.checkpoints));
  it->SeekToLast();
  FL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read checkpoints"));
  if (!it->Valid()) return NotFound("no checkpoint is stored");
  return it->value().ToString();
}

Result<std::string> Log::CheckpointAt(uint64_t size) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), columns_.checkpoints, CheckpointKey(size), &value);
  if (s.IsNotFound()) return NotFound("no checkpoint was signed at size " + std::to_string(size));
  FL_RETURN_IF_ERROR(FromRocks(s, "cannot read a checkpoint"));
  return value;
}

Status Log::ScanEntries(uint64_t begin, uint64_t end,
                        const std::function<Status(uint64_t, ByteView)>& fn) const {
  return Scan(begin, end, ScanOptions{.aligned = true}, fn);
}

Status Log::ScanEntriesUnaligned(uint64_t begin, uint64_t end,
                                 const std::function<Status(uint64_t, ByteView)>& fn) const {
  return Scan(begin, end, ScanOptions{.aligned = false}, fn);
}

Status Log::ScanEntriesHashChecked(uint64_t begin, uint64_t end, bool aligned,
                                   const std::function<Status(uint64_t, ByteView)>& fn) const {
  return Scan(begin, end, ScanOptions{.aligned = aligned, .hashes_checked = true}, fn);
}

Status Log::Scan(uint64_t begin, uint64_t end, const ScanOptions& how,
                 const std::function<Status(uint64_t, ByteView)>& fn) const {
  end = std::min(end, size());
  if (begin >= end) return Status::Ok();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a full scan should not evict the hot set
  ro.readahead_size = 2 << 20;
  ro.verify_checksums = !how.hashes_checked;
  QuietRocksDbCounters();
  std::string upper = EntryKey(end);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, columns_.entries));
  uint64_t expected = begin;
  auto missing = [&] {
    return Corruption("entry " + std::to_string(expected) + " is missing from the store");
  };
  auto twice = [&](uint64_t index) {
    return Corruption("entry " + std::to_string(index) + " is stored twice");
  };
  // RocksDB values are not aligned; entries are decoded in place. The buffer grows to the largest
  // entry so far and never shrinks: resized to each entry, it zero-filled words again and again.
  std::vector<uint64_t> words;
  auto emit = [&](uint64_t index, ByteView bytes) -> Status {
    if (how.aligned) {
      const size_t needed = (bytes.size() + 7) / 8;
      if (words.size() < needed) words.resize(needed);
      if (!bytes.empty()) std::memcpy(words.data(), bytes.data(), bytes.size());
      bytes = ByteView(reinterpret_cast<const uint8_t*>(words.data()), bytes.size());
    }
    FL_RETURN_IF_ERROR(fn(index, bytes));
    ++expected;
    return Status::Ok();
  };
  // The bundle holding `begin` sorts after the single key of its first entry.
  for (it->Seek(EntryKey(BundleStart(begin))); it->Valid() && expected < end; it->Next()) {
    std::optional<EntriesKey> key =
        ParseEntriesKey(std::string_view(it->key().data(), it->key().size()));
    if (!key)
      return Corruption("entries column holds a key that is neither an entry's nor a bundle's");
    const uint64_t first = key->first_index;
    if (!key->bundle) {
      if (first < begin) continue;  // before the range, in the bundle of `begin`
      if (first != expected) return first < expected ? twice(first) : missing();
      FL_RETURN_IF_ERROR(emit(first, ToBytes(it->value())));
      continue;
    }
    if (first > expected) return missing();
    if (expected > std::max(first, begin)) return twice(expected - 1);
    FL_RETURN_IF_ERROR(ForEachBundled(first, ToBytes(it->value()), expected, end, emit));
  }
  FL_RETURN_IF_ERROR(FromRocks(it->status(), "cannot scan entries"));
  if (expected != end) return missing();
  return Status::Ok();
}

Status Log::ScanCheckpoints(const std::function<Status(uint64_t, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), columns_.checkpoints));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != kU64Bytes)
      return Corruption("checkpoints column holds a key that is not 8 bytes");
    FL_RETURN_IF_ERROR(fn(ReadU64(std::string_view(it->key().data(), it->key().size())),
                          std::string_view(it->value().data(), it->value().size())));
  }
  return FromRocks(it->status(), "cannot scan checkpoints");
}

Result<uint64_t> Log::IndexAtTime(int64_t timestamp_ms) const {
  uint64_t lo = 0, hi = size();  // find the first index with timestamp > t
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    FL_ASSIGN_OR_RETURN(Bytes bytes, ReadEntry(mid));
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    if (e.timestamp_ms <= timestamp_ms) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) {
    std::string first;  // the log's first time, when the log has an entry to read it from
    if (size() > 0) {
      FL_ASSIGN_OR_RETURN(Bytes bytes, ReadEntry(0));
      FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
      first = ": the log begins at " + IsoTimeMs(e.timestamp_ms);
    }
    return NotFound("no entry is as old as " + IsoTimeMs(timestamp_ms) + first);
  }
  return lo - 1;
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
