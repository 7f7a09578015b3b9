#include "api/shared_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fundledger {
namespace {

constexpr size_t kSharedFileBytesMax = size_t{1} << 30;  // far above any table or report

// An open file descriptor, closed when it goes away.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

Result<std::string> ReadWhole(const std::string& path, std::string_view what) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::string();
    return IoError("cannot read " + std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return IoError("cannot read " + std::string(what) + " " + path + ": " + std::strerror(errno));
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kSharedFileBytesMax)
      return TooLarge(std::string(what) + " " + path + " is larger than 1 GiB");
  }
}

}  // namespace

SharedFile::SharedFile(std::string path, std::string what, mode_t mode)
    : path_(std::move(path)), what_(std::move(what)), mode_(mode) {}

Status SharedFile::Update(
    const std::function<Result<std::string>(std::string_view now)>& change) const {
  const std::string lock_path = path_ + ".lock";
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0)
    return IoError("cannot lock " + what_ + " (" + lock_path + "): " + std::strerror(errno));
  int locked;
  do {
    locked = ::flock(lock.get(), LOCK_EX);
  } while (locked != 0 && errno == EINTR);
  if (locked != 0)
    return IoError("cannot lock " + what_ + " (" + lock_path + "): " + std::strerror(errno));
  // The lock is released when `lock` closes, after the rename and the directory's fsync.
  FL_ASSIGN_OR_RETURN(std::string now, ReadWhole(path_, what_));
  FL_ASSIGN_OR_RETURN(std::string next, change(now));
  return WriteLocked(next);
}

Status SharedFile::Replace(std::string_view text) const {
  return Update([&](std::string_view) -> Result<std::string> { return std::string(text); });
}

Result<std::string> SharedFile::Read() const { return ReadWhole(path_, what_); }

Status SharedFile::WriteLocked(std::string_view text) const {
  const std::string tmp = path_ + ".tmp";
  auto failed = [&](const std::string& step) {
    return IoError("cannot write " + what_ + " " + path_ + " (" + step +
                   "): " + std::strerror(errno) + (errno == ENOSPC ? " (disk full)" : ""));
  };
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_));
    if (fd.get() < 0) return failed("create " + tmp);
    if (::fchmod(fd.get(), mode_) != 0) return failed("chmod " + tmp);
    for (size_t done = 0; done < text.size();) {
      ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return failed("write " + tmp);
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return failed("fsync " + tmp);
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return failed("rename " + tmp);
  Fd dir(::open(DirectoryOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) return failed("fsync its directory");
  return Status::Ok();
}

Status ForEachTableLine(
    std::string_view text,
    const std::function<Status(std::string_view line, uint64_t line_no)>& each) {
  uint64_t line_no = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_no;
    if (!line.empty()) FL_RETURN_IF_ERROR(each(line, line_no));
  }
  return Status::Ok();
}

Status MakePrivateDirectory(const std::string& dir, std::string_view what) {
  std::error_code ec;
  std::filesystem::path path(dir);
  if (std::filesystem::is_directory(path, ec)) return Status::Ok();
  if (path.has_parent_path() && path.parent_path() != path) {
    FL_RETURN_IF_ERROR(MakePrivateDirectory(path.parent_path().string(), what));
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return Status::Ok();  // made by someone else meanwhile: theirs
    return IoError("cannot create " + std::string(what) + " " + dir + ": " + std::strerror(errno));
  }
  if (::chmod(dir.c_str(), 0700) != 0)  // a umask can only take bits away; this sets them exactly
    return IoError("cannot set the mode of " + std::string(what) + " " + dir + ": " +
                   std::strerror(errno));
  return Status::Ok();
}

}  // namespace fundledger
