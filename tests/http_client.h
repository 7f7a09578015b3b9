// Clients for end-to-end tests against the real `fundledger serve`: a small blocking HTTP/1.1
// client (Boost.Beast), a raw TCP connection for bytes no well-behaved client sends, and a
// handle on a server child process.
//
// Every wait is bounded (HttpClientOptions::timeout, RawConnection's timeouts), so a server
// that stops answering fails a test instead of hanging it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/actor_keys.h"

namespace fundledger::testing {

// Signs HTTP commands as a staff member's client does (api/README.md, "Signed requests"): the
// Fundledger-Signature header's value for one request.
struct RequestSigner {
  std::string origin;  // the log's (GET /v1/key names it)
  std::string actor;
  fb::Role role = fb::Role::maker;
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  std::string key_id() const { return ActorKeyId(key.public_key()); }
  std::string Header(fb::EventType type, const std::string& idempotency_key,
                     const std::string& method, const std::string& target,
                     const std::string& body) const;
};

struct HttpResult {
  int status = 0;  // 0: the connection failed or timed out
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

struct HttpClientOptions {
  std::string source_address;                 // bind to this local address ("127.0.0.2"); "": any
  std::chrono::milliseconds timeout{30'000};  // for each request, connect to last byte
};

// One keep-alive connection to 127.0.0.1:port. `method` is any HTTP method (GET, POST, DELETE...).
class HttpClient {
 public:
  explicit HttpClient(int port, HttpClientOptions options = {});
  ~HttpClient();
  HttpResult Request(const std::string& method, const std::string& target,
                     const std::string& token = "", const std::string& body = "",
                     const std::string& idempotency_key = "",
                     const std::string& content_type = "application/json",
                     const std::string& signature = "");  // the Fundledger-Signature header
  // A POST signed by `signer`: the Fundledger-Signature over exactly the bytes sent, naming
  // `type`, the event the route appends (its x-event in the OpenAPI document).
  HttpResult Command(const RequestSigner& signer, fb::EventType type, const std::string& target,
                     const std::string& token, const std::string& body,
                     const std::string& idempotency_key,
                     const std::string& content_type = "application/json");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_;
  HttpClientOptions options_;
};

// A plain TCP connection to 127.0.0.1:port that sends exactly the bytes it is given.
class RawConnection {
 public:
  explicit RawConnection(int port, const std::string& source_address = "");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `bytes`; false when the server closed or reset the connection.
  bool Send(std::string_view bytes);
  // Reads until the server closes the connection or `timeout` passes. `closed` says which.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed = nullptr);
  // Reads one response's status line and headers (up to the blank line), within `timeout`.
  // "" when nothing came.
  std::string ReadHead(std::chrono::milliseconds timeout);
  void Close();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string pending_;  // read past the head
};

// The status code of a raw response ("HTTP/1.1 400 Bad Request..." -> 400), 0 when none.
int StatusOf(std::string_view response);

struct ServerProcessOptions {
  std::string extra_args;   // more `serve` flags
  std::string shell_setup;  // shell commands run before exec ("ulimit -n 64; umask 000")
  bool quiet = true;        // --quiet: no request log lines
  // Another subcommand instead of `serve --data DIR` ("witness serve --data W --config F");
  // it must print the address it listens on as `serve` does.
  std::string command;
  std::string listen = "127.0.0.1:0";  // --listen
  bool own_session = false;  // started in a session of its own, as scripts/cluster starts a node
};

// Starts `fundledger serve --data DIR --listen 127.0.0.1:0 [--quiet]` and reads its port.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& data_dir, const std::string& extra_args = "");
  ServerProcess(const std::string& data_dir, const ServerProcessOptions& options);
  ~ServerProcess();
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Sends SIGTERM and waits; returns the exit code and everything the server printed.
  int Terminate(std::string* output = nullptr);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
  std::string output_;
};

// The tokens `fundledger demo` printed (its "token ROLE ACTOR TOKEN" lines), by role.
std::map<std::string, std::string> DemoTokens(const std::string& demo_output);

// The signer of a member of staff of the ledger `fundledger demo` made at `dir`, with the key
// file the demo wrote for them (DIR.keys/staff/ACTOR.key); the demo's origin. Without the file
// (said on stderr) a fresh key, which the ledger refuses as unknown_key.
RequestSigner DemoSigner(const std::string& dir, const std::string& actor, fb::Role role);

// The resident set of a process in bytes (VmRSS in /proc/PID/status), 0 when unknown.
uint64_t ResidentBytes(pid_t pid);

}  // namespace fundledger::testing
