#include "api/vault_rows_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "crypto/encoding.h"

namespace fundledger {
namespace {

constexpr std::string_view kHeader = "fundledger-vault-rows-v1\n";
constexpr uint32_t kEndMark = 0xFFFFFFFF;
static_assert(kVaultRowBytesMax < kEndMark, "a length must not read as the end mark");

std::string Length(uint32_t n) {
  uint8_t b[4];
  PutBigEndian32(n, b);
  return std::string(reinterpret_cast<const char*>(b), 4);
}

}  // namespace

bool IsVaultKeyRow(std::string_view vault_key) {
  return vault_key.starts_with("k/") || vault_key.starts_with("i/");
}

VaultRowsWriter::VaultRowsWriter(std::string path)
    : path_(std::move(path)), partial_path_(path_ + ".partial") {}

VaultRowsWriter::~VaultRowsWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(partial_path_.c_str());
}

Status VaultRowsWriter::Open() {
  ::unlink(partial_path_.c_str());  // left by a backup that was killed
  fd_ = ::open(partial_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) return IoError("cannot create " + partial_path_ + ": " + std::strerror(errno));
  return Write(kHeader);
}

Status VaultRowsWriter::Write(std::string_view bytes) {
  digest_.Update(AsBytes(bytes));
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot write " + partial_path_ + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status VaultRowsWriter::Add(std::string_view key, std::string_view value) {
  assert(fd_ >= 0 && !committed_);
  if (key.size() > kVaultRowBytesMax || value.size() > kVaultRowBytesMax)
    return Corruption("vault row " + std::string(key.substr(0, 40)) + " is too long");
  FL_RETURN_IF_ERROR(Write(Length(static_cast<uint32_t>(key.size()))));
  FL_RETURN_IF_ERROR(Write(key));
  FL_RETURN_IF_ERROR(Write(Length(static_cast<uint32_t>(value.size()))));
  FL_RETURN_IF_ERROR(Write(value));
  ++rows_;
  return Status::Ok();
}

Status VaultRowsWriter::Commit() {
  FL_RETURN_IF_ERROR(Write(Length(kEndMark)));
  Hash sum = digest_.Finish();
  std::string_view tail(reinterpret_cast<const char*>(sum.data()), sum.size());
  while (!tail.empty()) {
    ssize_t n = ::write(fd_, tail.data(), tail.size());
    if (n <= 0) return IoError("cannot write " + partial_path_ + ": " + std::strerror(errno));
    tail.remove_prefix(static_cast<size_t>(n));
  }
  bool synced = ::fsync(fd_) == 0;
  ::close(fd_);
  fd_ = -1;
  if (!synced || std::rename(partial_path_.c_str(), path_.c_str()) != 0)
    return IoError("cannot write " + path_ + ": " + std::strerror(errno));
  committed_ = true;
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> ReadVaultRows(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read the vault rows file " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string all = buf.str();
  auto bad = [&](const std::string& why) {
    return Corruption("the vault rows file " + path + " " + why);
  };
  if (!all.starts_with(kHeader)) return bad("is not one (no fundledger-vault-rows-v1 header)");
  std::vector<std::pair<std::string, std::string>> rows;
  size_t at = kHeader.size();
  auto length = [&](uint32_t& n) {
    if (all.size() - at < 4) return false;
    n = GetBigEndian32(reinterpret_cast<const uint8_t*>(all.data() + at));
    at += 4;
    return true;
  };
  for (;;) {
    uint32_t key_bytes = 0, value_bytes = 0;
    if (!length(key_bytes))
      return bad("is cut short after " + std::to_string(rows.size()) + " rows");
    if (key_bytes == kEndMark) break;
    if (key_bytes > kVaultRowBytesMax || all.size() - at < key_bytes) return bad("is damaged");
    std::string key = all.substr(at, key_bytes);
    at += key_bytes;
    if (!length(value_bytes) || value_bytes > kVaultRowBytesMax || all.size() - at < value_bytes)
      return bad("is damaged at row " + std::to_string(rows.size() + 1));
    rows.emplace_back(std::move(key), all.substr(at, value_bytes));
    at += value_bytes;
  }
  Hash sum = Sha256::Digest(AsBytes(std::string_view(all).substr(0, at)));
  if (all.size() - at != sum.size() || std::memcmp(all.data() + at, sum.data(), sum.size()) != 0)
    return bad("does not match its digest: it was cut short or altered");
  return rows;
}

Result<uint64_t> DropSubjectFromVaultRows(const std::string& path, std::string_view subject) {
  if (::access(path.c_str(), F_OK) != 0) return uint64_t{0};
  FL_ASSIGN_OR_RETURN(auto rows, ReadVaultRows(path));
  const std::string key_row = "k/" + std::string(subject);
  VaultRowsWriter kept(path);
  FL_RETURN_IF_ERROR(kept.Open());
  uint64_t dropped = 0;
  for (const auto& [key, value] : rows) {
    if (key == key_row || (key.starts_with("i/") && value == subject)) {
      ++dropped;
      continue;
    }
    FL_RETURN_IF_ERROR(kept.Add(key, value));
  }
  FL_RETURN_IF_ERROR(kept.Commit());
  return dropped;
}

}  // namespace fundledger
