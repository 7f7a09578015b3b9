#include "replay/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ledger/binary_codec.h"

namespace fundledger {
namespace {

constexpr std::string_view kSignatureContext = "fundledger snapshot v1\n";
constexpr uint64_t kSnapshotBytesMax = uint64_t{8} << 30;

std::string SignedMessage(std::string_view body) {
  Hash h = Sha256::Digest(AsBytes(body));
  return std::string(kSignatureContext) + std::string(AsChars(h));
}

Status WriteFileDurably(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create " + tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      return IoError("cannot write " + tmp + " (disk full?)");
    }
    off += static_cast<size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot finish " + path);
  int dir =
      ::open(std::filesystem::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

}  // namespace

std::string SnapshotDir(const std::string& data_dir) { return data_dir + "/snapshots"; }

Result<SnapshotInfo> WriteSnapshot(const std::string& data_dir, const Log& log,
                                   const NoteSigner& signer, const Domain& domain,
                                   const Projections& projections) {
  uint64_t size = log.size();
  FL_ASSIGN_OR_RETURN(Hash leaf, log.ReadNode(0, size - 1));
  BinaryWriter w;
  w.data().append(kSnapshotMagic);
  w.U64(size);
  w.data().append(reinterpret_cast<const char*>(leaf.data()), leaf.size());
  w.Str(domain.SaveState());
  w.Str(projections.SaveState());
  Ed25519Signature sig = signer.key.Sign(AsBytes(SignedMessage(w.data())));
  w.data().append(reinterpret_cast<const char*>(sig.data()), sig.size());
  std::error_code ec;
  std::filesystem::create_directories(SnapshotDir(data_dir), ec);
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.snap", static_cast<unsigned long long>(size));
  std::string path = SnapshotDir(data_dir) + "/" + name;
  FL_RETURN_IF_ERROR(WriteFileDurably(path, w.data()));
  return SnapshotInfo{path, size};
}

Result<SnapshotInfo> LoadSnapshot(const std::string& path, const LogSource& log,
                                  const NoteVerifier& key, Domain& domain,
                                  Projections& projections) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read snapshot " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string data = buf.str();
  auto bad = [&](const std::string& why) { return Corruption("snapshot " + path + ": " + why); };
  if (data.size() > kSnapshotBytesMax) return bad("larger than 8 GiB");
  if (data.size() >= kSnapshotMagic.size() && data.starts_with(kSnapshotMagicPrefix) &&
      !data.starts_with(kSnapshotMagic)) {
    std::string found = data.substr(kSnapshotMagicPrefix.size(), 2);
    if (!std::all_of(found.begin(), found.end(), [](char c) { return c >= '0' && c <= '9'; }))
      found = "0x" + HexEncode(AsBytes(found));
    return bad("format '" + found + "'; this build reads " + "format '" +
               std::string(kSnapshotMagic.substr(kSnapshotMagicPrefix.size())) +
               "' (a ledger skips it and replays from entry 0): delete it and take a new one "
               "with `fundledger snapshot`");
  }
  if (data.size() < kSnapshotMagic.size() + 8 + kHashBytes + kEd25519SignatureBytes ||
      !data.starts_with(kSnapshotMagic)) {
    return bad("not a fundledger snapshot");
  }
  std::string_view body(data.data(), data.size() - kEd25519SignatureBytes);
  ByteView sig(reinterpret_cast<const uint8_t*>(data.data()) + body.size(), kEd25519SignatureBytes);
  if (!key.key.Verify(AsBytes(SignedMessage(body)), sig).ok())
    return bad("signature does not verify with the log's key");
  BinaryReader r(body.substr(kSnapshotMagic.size()));
  uint64_t size = r.U64();
  if (!r.ok() || size == 0 || size > log.size())
    return bad("covers " + std::to_string(size) + " entries, the log has " +
               std::to_string(log.size()));
  std::string_view rest = body.substr(kSnapshotMagic.size() + 8);
  Hash leaf;
  std::copy(rest.begin(), rest.begin() + kHashBytes, leaf.begin());
  FL_ASSIGN_OR_RETURN(Hash actual, log.ReadNode(0, size - 1));
  if (actual != leaf)
    return bad("was taken from another history (leaf hash of entry " + std::to_string(size - 1) +
               " differs)");
  BinaryReader states(rest.substr(kHashBytes));
  std::string domain_bytes = states.Str();
  std::string projection_bytes = states.Str();
  if (!states.ok() || !states.done()) return bad("truncated");
  FL_RETURN_IF_ERROR(domain.LoadState(domain_bytes));
  FL_RETURN_IF_ERROR(projections.LoadState(projection_bytes));
  return SnapshotInfo{path, size};
}

Result<std::optional<SnapshotInfo>> LoadLatestSnapshot(const std::string& data_dir, const Log& log,
                                                       Domain& domain, Projections& projections) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(SnapshotDir(data_dir), ec)) {
    if (e.path().extension() == ".snap") files.push_back(e.path().string());
  }
  std::sort(files.rbegin(), files.rend());  // zero-padded sizes: newest first
  for (const std::string& f : files) {
    Result<SnapshotInfo> info = LoadSnapshot(f, log, log.verifier(), domain, projections);
    if (info.ok()) return std::optional<SnapshotInfo>(*info);
    // An unusable snapshot (from a log that was rolled back, or damaged) is skipped; the
    // replay from an older one or from entry 0 gives the same state.
  }
  return std::optional<SnapshotInfo>();
}

LedgerOptions WithSnapshots(const std::string& data_dir, Projections& projections,
                            LedgerOptions options) {
  options.restore = [data_dir, &projections](Domain& domain, const Log& log) -> Result<uint64_t> {
    FL_ASSIGN_OR_RETURN(std::optional<SnapshotInfo> info,
                        LoadLatestSnapshot(data_dir, log, domain, projections));
    return info ? info->size : 0;
  };
  return options;
}

}  // namespace fundledger
