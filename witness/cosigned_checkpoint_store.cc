#include "witness/cosigned_checkpoint_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <utility>

#include "crypto/note.h"
#include "crypto/sha256.h"

namespace fundledger {
namespace {

constexpr std::string_view kLogsDir = "logs";
constexpr std::string_view kEvidenceDir = "evidence";

Status ErrnoError(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::strerror(errno));
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Status FsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open directory", dir);
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return ErrnoError("cannot sync directory", dir);
  return Status::Ok();
}

// Temp file, fsync, rename over `path`, fsync of the directory: the old text or the new one
// survives a crash, never a mix.
Status ReplaceFileDurably(const std::string& dir, const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  bool ok = WriteAll(fd, data) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return ErrnoError("cannot write (disk full?)", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename onto", path);
  return FsyncDirectory(dir);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string OriginHashHex(std::string_view origin) {
  return HashHex(Sha256::Digest(AsBytes(origin)));
}

Status CosignedCheckpointStore::CreateLayout(const std::string& dir) {
  for (std::string_view sub : {kLogsDir, kEvidenceDir}) {
    std::string path = dir + "/" + std::string(sub);
    if (::mkdir(path.c_str(), 0755) != 0) return ErrnoError("cannot create", path);
  }
  return FsyncDirectory(dir);
}

Result<CosignedCheckpointStore> CosignedCheckpointStore::Open(const std::string& dir) {
  std::string logs = dir + "/" + std::string(kLogsDir);
  if (!IsDirectory(logs) || !IsDirectory(dir + "/" + std::string(kEvidenceDir))) {
    return Corruption("witness state " + logs +
                      " is missing: a witness that lost its state must be retired with its key, "
                      "never restarted (it would cosign a fork of what it cosigned before)");
  }
  std::string lock = dir + "/LOCK";
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open", lock);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return IoError("another process holds the witness directory " + dir);
  }
  return CosignedCheckpointStore(dir, fd);
}

CosignedCheckpointStore::CosignedCheckpointStore(CosignedCheckpointStore&& other) noexcept
    : dir_(std::move(other.dir_)), lock_fd_(std::exchange(other.lock_fd_, -1)) {}

CosignedCheckpointStore::~CosignedCheckpointStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

std::string CosignedCheckpointStore::PathFor(std::string_view subdir,
                                             std::string_view origin) const {
  return dir_ + "/" + std::string(subdir) + "/" + OriginHashHex(origin);
}

Result<std::optional<std::string>> CosignedCheckpointStore::Read(std::string_view origin) const {
  std::string path = PathFor(kLogsDir, origin);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::optional<std::string>();
  if (fd < 0) return ErrnoError("cannot open", path);
  std::string text(kNoteBytesMax + 1, '\0');
  size_t filled = 0;
  ssize_t n = 0;
  while (filled < text.size() && (n = ::read(fd, text.data() + filled, text.size() - filled)) > 0)
    filled += static_cast<size_t>(n);
  ::close(fd);
  if (n < 0) return ErrnoError("cannot read", path);
  if (filled > kNoteBytesMax) return Corruption(path + " is larger than a note may be");
  text.resize(filled);
  return std::optional<std::string>(std::move(text));
}

Status CosignedCheckpointStore::Write(std::string_view origin, std::string_view cosigned) {
  assert(!cosigned.empty() && cosigned.size() <= kNoteBytesMax);
  return ReplaceFileDurably(dir_ + "/" + std::string(kLogsDir), PathFor(kLogsDir, origin),
                            cosigned);
}

void CosignedCheckpointStore::KeepEvidenceOnce(std::string_view origin, std::string_view request) {
  std::string path = PathFor(kEvidenceDir, origin);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return;  // the first refusal is kept, later ones are not
  // Best effort: the refusal stands whether or not the disk takes the evidence.
  (void)ReplaceFileDurably(dir_ + "/" + std::string(kEvidenceDir), path, request);
}

}  // namespace fundledger
