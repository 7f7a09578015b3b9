// A small blocking HTTP/1.1 client (Boost.Beast) and a handle on a `fundledger serve` child
// process, for end-to-end tests against the real binary.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

namespace fundledger::testing {

struct HttpResult {
  int status = 0;  // 0: the connection failed
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

// One keep-alive connection to 127.0.0.1:port. `method` is any HTTP method (GET, POST, DELETE...).
class HttpClient {
 public:
  explicit HttpClient(int port);
  ~HttpClient();
  HttpResult Request(const std::string& method, const std::string& target,
                     const std::string& token = "", const std::string& body = "",
                     const std::string& idempotency_key = "",
                     const std::string& content_type = "application/json");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_;
};

// Starts `fundledger serve --data DIR --listen 127.0.0.1:0 --quiet` and reads its port.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& data_dir, const std::string& extra_args = "");
  ~ServerProcess();
  int port() const { return port_; }
  bool running() const { return pid_ > 0; }
  // Sends SIGTERM and waits; returns the exit code and everything the server printed.
  int Terminate(std::string* output = nullptr);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
  std::string output_;
};

}  // namespace fundledger::testing
