// ConnectionLimiter: how many connections the server holds open, in all and per client
// address, so that neither a flood of connections nor one client with many slow ones can take
// every file descriptor and leave nothing for anyone else.
//
// Admit() hands out a Slot (the connection counts until the Slot goes away) or refuses,
// saying which cap was reached; the server answers a refused connection 503 and closes it.
// FitToDescriptorLimit() clamps the total cap to the descriptors still free under the
// process's limit less a reserve, so connections never take the last descriptors: whatever
// else needs one would then fail (the store opening a table file, the accept of a connection
// to refuse, and under UBSan the runtime's memory probe, a pipe, whose failure it reports as
// an invalid vptr and aborts).
//
// Thread safety: FitToDescriptorLimit() before the first Admit(); every other method may be
// called from any thread; a Slot may be destroyed on any.
//
//   ConnectionLimiter limiter(10'000, 128);
//   if (Status fit = limiter.FitToDescriptorLimit(); !fit.ok()) return fit;
//   Result<ConnectionLimiter::Slot> slot = limiter.Admit(peer_address);
//   if (!slot.ok()) { /* 503 with slot.status().message(), close */ }
#pragma once

#include <cassert>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "crypto/mutex.h"
#include "crypto/status.h"

namespace fundledger {

class ConnectionLimiter {
 public:
  // File descriptors kept for everything but connections (the store's files, logs, keys, a
  // refused connection): half of those free, within these bounds.
  static constexpr size_t kReservedFdsMin = 8;
  static constexpr size_t kReservedFdsMax = 128;

  ConnectionLimiter(size_t connections_max, size_t connections_per_client_max);

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();

   private:
    friend class ConnectionLimiter;
    Slot(ConnectionLimiter* limiter, std::string client) : limiter_(limiter), client_(client) {}
    ConnectionLimiter* limiter_ = nullptr;
    std::string client_;
  };

  // Lowers the total cap to the descriptors free now (RLIMIT_NOFILE less those open) less the
  // reserve; InvalidArgument when that leaves no room for one connection.
  Status FitToDescriptorLimit();
  // A slot for one more connection from `client` (its address), or Overloaded naming the cap.
  Result<Slot> Admit(const std::string& client);
  size_t connections_max() const;
  size_t open() const;

 private:
  void Release(const std::string& client);

  const size_t per_client_max_;
  mutable Mutex mu_;
  size_t connections_max_ FL_GUARDED_BY(mu_);
  size_t open_ FL_GUARDED_BY(mu_) = 0;
  std::map<std::string, size_t> per_client_ FL_GUARDED_BY(mu_);
};

}  // namespace fundledger
