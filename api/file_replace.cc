#include "api/file_replace.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fundledger {

Status ReplaceFile(const std::string& path, std::string_view text, mode_t mode,
                   std::string_view what) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return IoError("cannot write " + std::string(what) + " " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return IoError("cannot write " + std::string(what) + " " + path + ": " +
                   std::strerror(ok ? errno : saved) + " (disk full?)");
  }
  return Status::Ok();
}

}  // namespace fundledger
