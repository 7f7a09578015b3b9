// ConnectionLimiter: how many connections the server holds open, in all and per client
// address, so that neither a flood of connections nor one client with many slow ones can take
// every file descriptor and leave nothing for anyone else.
//
// Admit() hands out a Slot (the connection counts until the Slot goes away) or refuses,
// saying which cap was reached; the server answers a refused connection 503 and closes it.
// The total cap is clamped to the process's file-descriptor limit less a reserve for the
// store, so accepting stops with 503s before accept() itself fails with EMFILE.
//
// Thread safety: every method may be called from any thread; a Slot may be destroyed on any.
//
//   ConnectionLimiter limiter(10'000, 128);
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
  // File descriptors kept for everything but connections (the store's files, logs, keys).
  static constexpr size_t kReservedFds = 128;
  static constexpr size_t kConnectionsMin = 16;  // the clamp never goes below this

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

  // A slot for one more connection from `client` (its address), or Overloaded naming the cap.
  Result<Slot> Admit(const std::string& client);
  size_t connections_max() const { return connections_max_; }
  size_t open() const;

 private:
  void Release(const std::string& client);

  const size_t connections_max_;
  const size_t per_client_max_;
  mutable Mutex mu_;
  size_t open_ FL_GUARDED_BY(mu_) = 0;
  std::map<std::string, size_t> per_client_ FL_GUARDED_BY(mu_);
};

}  // namespace fundledger
