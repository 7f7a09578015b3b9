#include "tests/http_client.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cctype>
#include <vector>

extern char** environ;

namespace fundledger::testing {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

struct HttpClient::Impl {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
};

HttpClient::HttpClient(int port) : impl_(std::make_unique<Impl>()), port_(port) {}
HttpClient::~HttpClient() {
  if (impl_->stream) {
    beast::error_code ec;
    impl_->stream->socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  }
}

HttpResult HttpClient::Request(const std::string& method, const std::string& target,
                               const std::string& token, const std::string& body,
                               const std::string& idempotency_key,
                               const std::string& content_type) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    if (!impl_->stream) {
      impl_->stream.emplace(impl_->ioc);
      impl_->stream->connect(
          net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)),
          ec);
      if (ec) {
        impl_->stream.reset();
        return {};
      }
    }
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!idempotency_key.empty()) req.set("Idempotency-Key", idempotency_key);
    if (!body.empty()) req.set(http::field::content_type, content_type);
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    http::write(*impl_->stream, req, ec);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    // Read even when the write failed: a server may answer (413) before taking the whole body.
    beast::error_code read_ec;
    http::read(*impl_->stream, buffer, res, read_ec);
    if (!read_ec)
      ec = {};
    else if (!ec)
      ec = read_ec;
    if (ec) {
      impl_->stream.reset();  // the server closed an idle connection: reconnect once
      if (attempt == 0 && method == "GET") continue;
      return {};
    }
    if (!res.keep_alive()) impl_->stream.reset();
    HttpResult out{static_cast<int>(res.result_int()), res.body(), {}};
    for (const auto& field : res.base()) {
      std::string name(field.name_string());
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.headers[name] = std::string(field.value());
    }
    return out;
  }
  return {};
}

ServerProcess::ServerProcess(const std::string& data_dir, const std::string& extra_args) {
  int fds[2];
  if (::pipe(fds) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string cmd = std::string(FUNDLEDGER_CLI_PATH) + " serve --data " + data_dir +
                    " --listen 127.0.0.1:0 --quiet " + extra_args;
  char sh[] = "/bin/sh", dash_c[] = "-c";
  std::string exec_cmd = "exec " + cmd;
  char* argv[] = {sh, dash_c, exec_cmd.data(), nullptr};
  if (posix_spawn(&pid_, "/bin/sh", &actions, nullptr, argv, environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  out_fd_ = fds[0];
  // The first line names the port: "... on http://127.0.0.1:PORT".
  char c;
  std::string line;
  while (pid_ > 0 && ::read(out_fd_, &c, 1) == 1) {
    output_ += c;
    if (c == '\n') {
      size_t at = output_.rfind("127.0.0.1:");
      if (at != std::string::npos) {
        port_ = std::atoi(output_.c_str() + at + 10);
        break;
      }
    }
  }
}

int ServerProcess::Terminate(std::string* output) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out_fd_, buf, sizeof buf)) > 0) output_.append(buf, static_cast<size_t>(n));
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  ::close(out_fd_);
  out_fd_ = -1;
  if (output != nullptr) *output = output_;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Terminate();
}

}  // namespace fundledger::testing
