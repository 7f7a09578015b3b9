// HttpServer: Boost.Beast over Boost.Asio, serving an HttpHandler (the ledger's Service, or a
// witness).
//
// A fixed pool of I/O threads runs the sockets (keep-alive, optional TLS); requests are
// handed to a separate pool of handler threads because a command waits for its commit's
// fsync. Limits: header size, and body size by caller (the token is checked when the head has
// arrived, before any of the body is read; 413 over the limit), head, read and write timeouts,
// a cap on requests in flight, connection caps in all and per client address (503 beyond
// them, connection_limiter.h). The accept loop survives every error, backing off while file
// descriptors run out. Stop() (and SIGTERM / SIGINT when
// signals are handled) stops accepting, closes idle connections, lets requests in flight
// finish and get their responses, then returns from Run(); the caller then closes the ledger.
//
//   HttpServer server(service, {});
//   Result<uint16_t> port = server.Start();   // binds; port 0 picks a free one
//   server.Run();                             // until SIGTERM or Stop()
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "api/http_message.h"

namespace fundledger {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";
  int io_threads = 2;
  int handler_threads = 64;                         // commands block on their commit
  size_t body_bytes_max = size_t{256} << 20;        // a caller whose token may call the route: a
                                                    // 1,000,000-line roll fits
  size_t public_body_bytes_max = size_t{64} << 10;  // anyone else (no token, a bad token, a
                                                    // role the route refuses)
  size_t header_bytes_max = 16 << 10;
  std::chrono::seconds header_timeout{10};  // from a request's first byte to its head's end
  std::chrono::seconds read_timeout{120};   // idle before a request; a body (a large roll on a
                                            // slow link)
  std::chrono::seconds write_timeout{60};
  std::chrono::seconds shutdown_grace{30};  // how long requests in flight may take on Stop
  size_t in_flight_max = 1024;
  // Connections held open at once (clamped at Start to the free descriptors less a reserve,
  // ConnectionLimiter::FitToDescriptorLimit) and per client address; past either, a new
  // connection is answered 503.
  size_t connections_max = 10'000;
  size_t connections_per_client_max = 128;
  std::string tls_cert_file;  // both set: serve HTTPS only
  std::string tls_key_file;
  bool handle_signals = true;  // SIGTERM / SIGINT call Stop()
};

class HttpServer {
 public:
  HttpServer(HttpHandler& handler, ServerOptions options);
  ~HttpServer();

  Result<uint16_t> Start();
  void Run();
  void Stop();  // thread-safe; Run() returns once requests in flight are answered

  class Impl;  // public so the session template in the .cc can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fundledger
