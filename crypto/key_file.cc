#include "crypto/key_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fundledger {
namespace {

constexpr size_t kKeyFileBytesMax = 4096;

Status ErrnoError(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::strerror(errno));
}

// Owned by this process's user: anyone else who owns it can replace what it holds.
Status CheckOwner(const struct stat& st, const std::string& path, std::string_view what) {
  const uid_t me = ::geteuid();
  if (st.st_uid == me) return Status::Ok();
  return InvalidArgument(std::string(what) + " " + path + " is owned by uid " +
                         std::to_string(st.st_uid) + ", not by this user (uid " +
                         std::to_string(me) + "); run chown " + std::to_string(me) + " on it");
}

}  // namespace

Status CheckSecretFile(const struct stat& st, const std::string& path, std::string_view what) {
  if (!S_ISREG(st.st_mode))
    return InvalidArgument(std::string(what) + " " + path + " is not a regular file");
  FL_RETURN_IF_ERROR(CheckOwner(st, path, what));
  if ((st.st_mode & 077) != 0) {
    return InvalidArgument(std::string(what) + " " + path +
                           " is readable or writable by group or others; run chmod 600 on it");
  }
  return Status::Ok();
}

Status CheckSecretFile(const std::string& path, std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("cannot stat " + std::string(what), path);
  return CheckSecretFile(st, path, what);
}

Status CheckPrivateDirectory(const std::string& path, std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("cannot stat " + std::string(what), path);
  if (!S_ISDIR(st.st_mode))
    return InvalidArgument(std::string(what) + " " + path + " is not a directory");
  FL_RETURN_IF_ERROR(CheckOwner(st, path, what));
  if ((st.st_mode & 022) != 0) {
    return InvalidArgument(std::string(what) + " " + path +
                           " is writable by group or others; run chmod 700 on it");
  }
  return Status::Ok();
}

Status WriteSignerKeyFile(const std::string& path, const NoteSigner& signer) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create key file", path);
  std::string text = FormatSignerKey(signer) + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 &&  // whatever the umask
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  OPENSSL_cleanse(text.data(), text.size());
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return ErrnoError("cannot write key file", path);
  return Status::Ok();
}

Result<NoteSigner> ReadSignerKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open key file", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return ErrnoError("cannot stat key file", path);
  }
  if (Status private_file = CheckSecretFile(st, path, "the signing key"); !private_file.ok()) {
    ::close(fd);
    return private_file;
  }
  std::string text(kKeyFileBytesMax, '\0');
  ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return ErrnoError("cannot read key file", path);
  text.resize(static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  Result<NoteSigner> signer = ParseSignerKey(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (!signer.ok()) return Corruption("key file " + path + ": " + signer.status().message());
  return signer;
}

}  // namespace fundledger
