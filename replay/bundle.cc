#include "replay/bundle.h"

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/tlog_tiles.h"
#include "ledger/log.h"

namespace fundledger {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

Status WriteFile(const fs::path& path, std::string_view data) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return IoError("cannot write " + path.string() + " (disk full?)");
  return Status::Ok();
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return NotFound("the bundle has no " + path.filename().string() + " (" + path.string() + ")");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string CheckpointFile(uint64_t size) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(size));
  return std::string("checkpoints/") + name;
}

}  // namespace

Result<BundleManifest> ExportBundle(const LogSource& log, const std::string& out_dir, uint64_t from,
                                    std::optional<uint64_t> to_opt,
                                    const std::function<void(uint64_t)>& progress) {
  fs::path out(out_dir);
  std::error_code ec;
  if (fs::exists(out / "manifest.json", ec))
    return Conflict("a bundle already exists in " + out_dir);
  // Checkpoints decide where the bundle may end: its tree must be one the log signed.
  std::vector<std::pair<uint64_t, std::string>> checkpoints;
  FL_RETURN_IF_ERROR(log.ScanCheckpoints([&](uint64_t size, std::string_view note) {
    checkpoints.emplace_back(size, std::string(note));
    return Status::Ok();
  }));
  if (checkpoints.empty()) return NotFound("the log has no signed checkpoint to anchor a bundle");
  uint64_t to = 0;
  for (const auto& [size, note] : checkpoints) {
    if (!to_opt || size <= *to_opt) to = std::max(to, size);
  }
  if (to == 0)
    return InvalidArgument("no checkpoint was signed at or below --to " + std::to_string(*to_opt));
  from = from / kTileWidth * kTileWidth;
  if (from >= to)
    return InvalidArgument("--from " + std::to_string(from) + " is not below the bundle's end " +
                           std::to_string(to));

  BundleManifest m;
  m.from = from;
  m.to = to;
  FL_RETURN_IF_ERROR(log.ScanEntries(0, 1, [&](uint64_t, ByteView bytes) -> Status {
    FL_ASSIGN_OR_RETURN(NoteVerifier key, GenesisVerifier(bytes));
    m.origin = key.name;
    m.vkey = FormatVerifierKey(key);
    return Status::Ok();
  }));
  uint64_t base = 0;  // the last checkpoint at or below `from`, so the verifier has a start
  for (const auto& [size, note] : checkpoints) {
    if (size <= from) base = std::max(base, size);
  }
  for (const auto& [size, note] : checkpoints) {
    if ((size > from && size <= to) || (base != 0 && size == base)) {
      FL_RETURN_IF_ERROR(WriteFile(out / CheckpointFile(size), note));
      m.checkpoints.push_back(size);
    }
    if (size == to) FL_RETURN_IF_ERROR(WriteFile(out / "checkpoint", note));
  }
  // Entry bundles.
  for (uint64_t tile = from / kTileWidth; tile * kTileWidth < to; ++tile) {
    uint64_t first = tile * kTileWidth, end = std::min(to, first + kTileWidth);
    std::vector<Bytes> entries;
    FL_RETURN_IF_ERROR(log.ScanEntries(first, end, [&](uint64_t, ByteView bytes) {
      entries.emplace_back(bytes.begin(), bytes.end());
      return Status::Ok();
    }));
    FL_RETURN_IF_ERROR(
        WriteFile(out / EntryBundlePath(tile, end - first),
                  EncodeEntryBundle(std::vector<ByteView>(entries.begin(), entries.end()))));
    if (progress) progress(end);
  }
  // Hash tiles of the whole tree of size `to`.
  std::vector<TileLevelCount> counts = TileCounts(to);
  for (size_t level = 0; level < counts.size(); ++level) {
    uint8_t tree_level = static_cast<uint8_t>(level * kTileHeight);
    uint64_t tiles = counts[level].full + (counts[level].partial_width ? 1 : 0);
    std::unique_ptr<NodeCursor> nodes =
        log.OpenNodeCursor(tree_level, 0);  // the level's nodes in order
    for (uint64_t t = 0; t < tiles; ++t) {
      uint64_t width = t < counts[level].full ? kTileWidth : counts[level].partial_width;
      std::string data;
      data.reserve(width * kHashBytes);
      for (uint64_t i = 0; i < width; ++i) {
        FL_ASSIGN_OR_RETURN(Hash h, nodes->Next());
        data.append(reinterpret_cast<const char*>(h.data()), h.size());
      }
      FL_RETURN_IF_ERROR(WriteFile(out / TilePath(static_cast<int>(level), t, width), data));
    }
  }
  m.exported_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  json::object manifest;
  manifest["format"] = kBundleFormat;
  manifest["origin"] = m.origin;
  manifest["vkey"] = m.vkey;
  manifest["from"] = m.from;
  manifest["to"] = m.to;
  json::array cps;
  for (uint64_t size : m.checkpoints) cps.emplace_back(size);
  manifest["checkpoints"] = std::move(cps);
  manifest["exported_ms"] = m.exported_ms;
  FL_RETURN_IF_ERROR(WriteFile(out / "vkey", m.vkey + "\n"));
  FL_RETURN_IF_ERROR(WriteFile(out / "manifest.json",
                               json::serialize(manifest) + "\n"));  // last: marks it complete
  return m;
}

Result<std::unique_ptr<BundleSource>> BundleSource::Open(const std::string& dir) {
  std::unique_ptr<BundleSource> b(new BundleSource());
  b->dir_ = dir;
  FL_ASSIGN_OR_RETURN(std::string text, ReadFile(fs::path(dir) / "manifest.json"));
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument("manifest.json is not JSON");
  const json::object& o = v.as_object();
  auto str = [&](const char* k) {
    const json::value* f = o.if_contains(k);
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  auto num = [&](const char* k) -> uint64_t {
    const json::value* f = o.if_contains(k);
    if (f == nullptr) return 0;
    if (f->is_uint64()) return f->as_uint64();
    if (f->is_int64() && f->as_int64() >= 0) return static_cast<uint64_t>(f->as_int64());
    return 0;
  };
  if (str("format") != kBundleFormat)
    return InvalidArgument("manifest.json does not name format " + std::string(kBundleFormat));
  b->manifest_.origin = str("origin");
  b->manifest_.vkey = str("vkey");
  b->manifest_.from = num("from");
  b->manifest_.to = num("to");
  b->manifest_.exported_ms = static_cast<int64_t>(num("exported_ms"));
  if (const json::value* cps = o.if_contains("checkpoints"); cps != nullptr && cps->is_array()) {
    for (const json::value& c : cps->as_array()) {
      if (c.is_uint64()) b->manifest_.checkpoints.push_back(c.as_uint64());
      if (c.is_int64() && c.as_int64() > 0)
        b->manifest_.checkpoints.push_back(static_cast<uint64_t>(c.as_int64()));
    }
  }
  if (b->manifest_.to == 0 || b->manifest_.from >= b->manifest_.to ||
      b->manifest_.from % kTileWidth != 0) {
    return InvalidArgument("manifest.json has an impossible range from " +
                           std::to_string(b->manifest_.from) + " to " +
                           std::to_string(b->manifest_.to));
  }
  return b;
}

Result<std::string> BundleSource::LatestCheckpoint() const {
  return ReadFile(fs::path(dir_) / "checkpoint");
}

Status BundleSource::ScanEntries(uint64_t begin, uint64_t end,
                                 const std::function<Status(uint64_t, ByteView)>& fn) const {
  end = std::min(end, manifest_.to);
  if (begin < manifest_.from && begin < end) {
    return NotFound("entry " + std::to_string(begin) + " is before this bundle, which starts at " +
                    std::to_string(manifest_.from));
  }
  for (uint64_t tile = begin / kTileWidth; tile * kTileWidth < end; ++tile) {
    uint64_t first = tile * kTileWidth, width = std::min(kTileWidth, manifest_.to - first);
    Result<std::string> data = ReadFile(fs::path(dir_) / EntryBundlePath(tile, width));
    if (!data.ok())
      return Corruption("entry " + std::to_string(std::max(first, begin)) + ": " +
                        data.status().message());
    Result<std::vector<Bytes>> entries = DecodeEntryBundle(AsBytes(*data), width);
    if (!entries.ok())
      return Corruption("entry bundle " + EntryBundlePath(tile, width) + ": " +
                        entries.status().message());
    for (uint64_t i = std::max(first, begin); i < std::min(end, first + width); ++i) {
      FL_RETURN_IF_ERROR(fn(i, (*entries)[i - first]));
    }
  }
  return Status::Ok();
}

Status BundleSource::ScanCheckpoints(
    const std::function<Status(uint64_t, std::string_view)>& fn) const {
  std::vector<uint64_t> sizes = manifest_.checkpoints;
  std::sort(sizes.begin(), sizes.end());
  for (uint64_t size : sizes) {
    FL_ASSIGN_OR_RETURN(std::string note, ReadFile(fs::path(dir_) / CheckpointFile(size)));
    FL_RETURN_IF_ERROR(fn(size, note));
  }
  return Status::Ok();
}

Result<std::string> BundleSource::Tile(int level, uint64_t index) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tiles_.find({level, index});
    if (it != tiles_.end()) return it->second;
  }
  std::vector<TileLevelCount> counts = TileCounts(manifest_.to);
  if (static_cast<size_t>(level) >= counts.size())
    return NotFound("no tile at level " + std::to_string(level));
  uint64_t width = index < counts[level].full ? kTileWidth : counts[level].partial_width;
  if (index > counts[level].full || width == 0)
    return NotFound("no tile " + TilePath(level, index, 0));
  FL_ASSIGN_OR_RETURN(std::string data, ReadFile(fs::path(dir_) / TilePath(level, index, width)));
  if (data.size() != width * kHashBytes) {
    return Corruption("tile " + TilePath(level, index, width) + " has " +
                      std::to_string(data.size()) + " bytes, expected " +
                      std::to_string(width * kHashBytes));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (tiles_.size() > 4096) tiles_.clear();  // bounded cache
  return tiles_[{level, index}] = std::move(data);
}

Result<Hash> BundleSource::ReadNode(uint8_t level, uint64_t index) const {
  // A node at tree level 8k + r is the hash of 2^r adjacent nodes of the level-k tile.
  int tile_level = level / static_cast<int>(kTileHeight);
  int r = level % static_cast<int>(kTileHeight);
  uint64_t first = index << r, count = uint64_t{1} << r;
  std::vector<Hash> nodes;
  nodes.reserve(count);
  for (uint64_t i = first; i < first + count; ++i) {
    FL_ASSIGN_OR_RETURN(std::string tile, Tile(tile_level, i / kTileWidth));
    uint64_t pos = i % kTileWidth;
    if ((pos + 1) * kHashBytes > tile.size()) {
      return NotFound("tree node at level " + std::to_string(level) + " index " +
                      std::to_string(index) + " is not in the bundle");
    }
    Hash h;
    std::memcpy(h.data(), tile.data() + pos * kHashBytes, kHashBytes);
    nodes.push_back(h);
  }
  while (nodes.size() > 1) {
    for (size_t i = 0; i < nodes.size() / 2; ++i)
      nodes[i] = HashChildren(nodes[2 * i], nodes[2 * i + 1]);
    nodes.resize(nodes.size() / 2);
  }
  return nodes[0];
}

BundleVerifyReport VerifyBundle(const std::string& dir, const BundleVerifyOptions& options) {
  BundleVerifyReport report;
  auto unusable = [&](std::string why) {
    report.status = VerifyStatus::kUnusable;
    report.reason = std::move(why);
    return report;
  };
  auto invalid = [&](uint64_t index, std::string why) {
    report.status = VerifyStatus::kInvalid;
    report.bad_index = index;
    report.reason = std::move(why);
    return report;
  };
  Result<std::unique_ptr<BundleSource>> opened = BundleSource::Open(dir);
  if (!opened.ok()) return unusable(opened.status().message());
  const BundleSource& bundle = **opened;
  report.from = bundle.manifest().from;
  report.to = bundle.manifest().to;
  Result<std::string> vkey_file = ReadFile(fs::path(dir) / "vkey");
  if (!vkey_file.ok()) return unusable(vkey_file.status().message());
  std::string vkey_text = vkey_file->substr(0, vkey_file->find('\n'));
  Result<NoteVerifier> bundle_key = ParseVerifierKey(vkey_text);
  if (!bundle_key.ok()) return unusable("vkey: " + bundle_key.status().message());
  if (options.trusted_key &&
      FormatVerifierKey(*options.trusted_key) != FormatVerifierKey(*bundle_key)) {
    return invalid(0, "the bundle is signed by " + vkey_text + ", not by the key you trust, " +
                          FormatVerifierKey(*options.trusted_key));
  }
  NoteVerifier key = options.trusted_key ? *options.trusted_key : *bundle_key;
  report.origin = key.name;
  report.vkey = FormatVerifierKey(key);

  // Entries, chain, tree and every checkpoint, then the projections when the bundle is whole.
  RebuildOptions rebuild;
  rebuild.trusted_key = key;
  rebuild.progress = options.progress;
  VerifyReport chain;
  if (report.from == 0) {
    report.rebuilt = RebuildProjections(bundle, rebuild);
    chain = report.rebuilt->verify;
  } else {
    VerifyOptions v;
    v.trusted_key = key;
    v.begin = report.from;
    v.progress = options.progress;
    chain = VerifyChain(bundle, v);
  }
  if (chain.unusable) return unusable(chain.reason);
  if (!chain.valid) return invalid(chain.bad_index, chain.reason);
  report.checkpoints = chain.checkpoints;
  report.root = chain.root;
  if (chain.latest_checkpoint_size != report.to) {
    return invalid(report.to - 1, "no signed checkpoint covers the bundle's last entry " +
                                      std::to_string(report.to - 1));
  }
  Result<std::string> latest = bundle.LatestCheckpoint();
  if (!latest.ok()) return unusable(latest.status().message());
  Result<Checkpoint> latest_cp = OpenCheckpoint(*latest, key);
  if (!latest_cp.ok() || latest_cp->size != report.to || latest_cp->root != chain.root) {
    return invalid(report.to - 1,
                   "the bundle's checkpoint file is not the signed checkpoint at size " +
                       std::to_string(report.to));
  }

  // Consistency proofs between successive checkpoints, as a witness would check them.
  std::vector<std::pair<uint64_t, Hash>> roots;
  Status scanned = bundle.ScanCheckpoints([&](uint64_t size, std::string_view note) {
    Result<Checkpoint> cp = OpenCheckpoint(note, key);
    if (cp.ok() && size >= report.from) roots.emplace_back(size, cp->root);
    return Status::Ok();
  });
  if (!scanned.ok()) return unusable(scanned.message());
  for (size_t i = 1; i < roots.size(); ++i) {
    Result<std::vector<Hash>> proof = ConsistencyProof(bundle, roots[i - 1].first, roots[i].first);
    if (!proof.ok() || !VerifyConsistency(roots[i - 1].first, roots[i].first, roots[i - 1].second,
                                          roots[i].second, *proof)
                            .ok()) {
      return invalid(roots[i].first - 1, "checkpoint at size " + std::to_string(roots[i].first) +
                                             " is not consistent with the one at size " +
                                             std::to_string(roots[i - 1].first));
    }
    report.consistency_proofs++;
  }

  // The auditor's own checkpoint from an earlier visit: the log may only have grown since.
  if (options.trusted_checkpoint) {
    Result<Checkpoint> trusted = OpenCheckpoint(*options.trusted_checkpoint, key);
    if (!trusted.ok()) {
      return unusable("the trusted checkpoint does not verify with the log's key: " +
                      trusted.status().message());
    }
    if (trusted->size > report.to) {
      return invalid(report.to - 1,
                     "ROLLED BACK: your checkpoint has " + std::to_string(trusted->size) +
                         " entries but this log ends at " + std::to_string(report.to));
    }
    Result<std::vector<Hash>> proof = ConsistencyProof(bundle, trusted->size, report.to);
    if (!proof.ok() ||
        !VerifyConsistency(trusted->size, report.to, trusted->root, chain.root, *proof).ok()) {
      return invalid(trusted->size - 1,
                     "FORKED: this log is not an extension of your checkpoint at size " +
                         std::to_string(trusted->size) + "; entries up to it were changed");
    }
    report.consistency_proofs++;
  }
  report.status = VerifyStatus::kValid;
  return report;
}

}  // namespace fundledger
