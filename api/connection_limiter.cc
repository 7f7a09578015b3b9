#include "api/connection_limiter.h"

#include <sys/resource.h>

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

namespace fundledger {
namespace {

// Descriptors open in this process, or nullopt where /proc/self/fd cannot be read.
std::optional<size_t> OpenDescriptors() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return std::nullopt;
  size_t open = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++open;
  }
  return open > 0 ? open - 1 : 0;  // less the iterator's own
}

}  // namespace

ConnectionLimiter::ConnectionLimiter(size_t connections_max, size_t connections_per_client_max)
    : per_client_max_(connections_per_client_max), connections_max_(connections_max) {}

Status ConnectionLimiter::FitToDescriptorLimit() {
  rlimit fds{};
  if (::getrlimit(RLIMIT_NOFILE, &fds) != 0 || fds.rlim_cur == RLIM_INFINITY) return Status();
  const size_t limit = static_cast<size_t>(fds.rlim_cur);
  const size_t open = OpenDescriptors().value_or(0);
  const size_t free = limit > open ? limit - open : 0;
  const size_t reserve = std::clamp(free / 2, kReservedFdsMin, kReservedFdsMax);
  if (free <= reserve) {
    return InvalidArgument("the file-descriptor limit (" + std::to_string(limit) + ", " +
                           std::to_string(open) +
                           " open) leaves no room for connections; raise it (ulimit -n)");
  }
  MutexLock lock(mu_);
  connections_max_ = std::min(connections_max_, free - reserve);
  return Status();
}

size_t ConnectionLimiter::connections_max() const {
  MutexLock lock(mu_);
  return connections_max_;
}

Result<ConnectionLimiter::Slot> ConnectionLimiter::Admit(const std::string& client) {
  MutexLock lock(mu_);
  if (open_ >= connections_max_) {
    return Overloaded("the server holds its most connections (" + std::to_string(connections_max_) +
                      "); retry shortly");
  }
  size_t& mine = per_client_[client];
  if (mine >= per_client_max_) {
    return Overloaded("this client holds its most connections (" + std::to_string(per_client_max_) +
                      "); reuse one or retry shortly");
  }
  ++mine;
  ++open_;
  return Slot(this, client);
}

size_t ConnectionLimiter::open() const {
  MutexLock lock(mu_);
  return open_;
}

void ConnectionLimiter::Release(const std::string& client) {
  MutexLock lock(mu_);
  auto it = per_client_.find(client);
  assert(it != per_client_.end() && it->second > 0 && open_ > 0);
  if (--it->second == 0) per_client_.erase(it);
  --open_;
}

ConnectionLimiter::Slot::Slot(Slot&& other) noexcept
    : limiter_(std::exchange(other.limiter_, nullptr)), client_(std::move(other.client_)) {}

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (limiter_ != nullptr) limiter_->Release(client_);
    limiter_ = std::exchange(other.limiter_, nullptr);
    client_ = std::move(other.client_);
  }
  return *this;
}

ConnectionLimiter::Slot::~Slot() {
  if (limiter_ != nullptr) limiter_->Release(client_);
}

}  // namespace fundledger
