#include "api/connection_limiter.h"

#include <sys/resource.h>

#include <algorithm>
#include <cassert>
#include <utility>

namespace fundledger {
namespace {

// The total cap within the soft RLIMIT_NOFILE, less the reserve.
size_t ClampToFdLimit(size_t connections_max) {
  rlimit fds{};
  if (::getrlimit(RLIMIT_NOFILE, &fds) != 0 || fds.rlim_cur == RLIM_INFINITY)
    return connections_max;
  size_t usable = fds.rlim_cur > ConnectionLimiter::kReservedFds
                      ? static_cast<size_t>(fds.rlim_cur) - ConnectionLimiter::kReservedFds
                      : 0;
  return std::min(connections_max, std::max(usable, ConnectionLimiter::kConnectionsMin));
}

}  // namespace

ConnectionLimiter::ConnectionLimiter(size_t connections_max, size_t connections_per_client_max)
    : connections_max_(ClampToFdLimit(connections_max)),
      per_client_max_(connections_per_client_max) {}

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
