#include "crypto/key_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fundledger {
namespace {

constexpr size_t kKeyFileBytesMax = 4096;

Status ErrnoError(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status WriteSignerKeyFile(const std::string& path, const NoteSigner& signer) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create key file", path);
  std::string text = FormatSignerKey(signer) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
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
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return InvalidArgument("key file " + path + " is readable by others; run chmod 600 on it");
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
