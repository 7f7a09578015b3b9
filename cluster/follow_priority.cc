#include "cluster/follow_priority.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace fundledger {
namespace {

// The nice value of thread `tid` of this process, or nullopt once it ended.
std::optional<int> ThreadNice(int tid) {
  errno = 0;  // -1 is a valid nice value: errno tells it from a failure
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno != 0) return std::nullopt;
  return nice;
}

}  // namespace

int ThisThreadNice() {
  const std::optional<int> nice = ThreadNice(0);  // 0: the calling thread
  assert(nice.has_value());
  return *nice;
}

Result<int> LowerThisThreadPriority(int increment) {
  assert(increment >= 0);
  const int target = std::min(ThisThreadNice() + increment, kNiceLowest);
  if (setpriority(PRIO_PROCESS, 0, target) != 0) {
    return IoError("cannot lower the follow thread's priority to nice " + std::to_string(target) +
                   ": " + std::strerror(errno));
  }
  const int now = ThisThreadNice();
  assert(now == target);
  return now;
}

bool CanRaisePriority() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NICE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NICE, &limit);  // not raised: the probe below says what that means
  }
  bool raised = false;
  std::thread probe([&] {
    const int base = ThisThreadNice();
    if (base >= kNiceLowest || !LowerThisThreadPriority(1).ok()) return;
    raised = setpriority(PRIO_PROCESS, 0, base) == 0;
  });
  probe.join();
  return raised;
}

Result<int> RaiseThreadsTo(int from, int to) {
  assert(to < from);
  int raised = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const int tid = std::stoi(task.path().filename().string());
    if (ThreadNice(tid) != from) continue;  // another priority, or the thread ended
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), to) != 0 && errno != ESRCH) {
      return IoError("cannot raise thread " + std::to_string(tid) + " to nice " +
                     std::to_string(to) + ": " + std::strerror(errno));
    }
    ++raised;
  }
  if (ec) return IoError("cannot list this process's threads: " + ec.message());
  return raised;
}

std::optional<int> OwnAutogroupNice() {
  if (getsid(0) != getpid()) return std::nullopt;  // the group is the session's, not ours
  std::ifstream in("/proc/self/autogroup");        // "/autogroup-123 nice 0"
  std::string name, word;
  int nice = 0;
  if (!(in >> name >> word >> nice) || word != "nice") return std::nullopt;
  return nice;
}

Status SetOwnAutogroupNice(int nice) {
  assert(nice >= 0 && nice <= kNiceLowest);
  const std::string text = std::to_string(nice);
  int error = 0;
  for (int attempt = 0; attempt < kAutogroupWriteTriesMax; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(kAutogroupRetryMs));
    const int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      error = errno;
      break;
    }
    const ssize_t written = write(fd, text.data(), text.size());
    error = written < 0 ? errno : 0;
    close(fd);
    if (error != EAGAIN) break;  // EAGAIN: another write within the kernel's 100 ms
  }
  if (error == 0) return Status::Ok();
  return IoError("cannot set this process's autogroup to nice " + text + ": " +
                 std::strerror(error));
}

}  // namespace fundledger
