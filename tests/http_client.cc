#include "tests/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "crypto/key_file.h"

extern char** environ;

namespace fundledger::testing {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

std::string RequestSigner::Header(fb::EventType type, const std::string& idempotency_key,
                                  const std::string& method, const std::string& target,
                                  const std::string& body) const {
  std::string message = SignedCommandMessage(origin, type, actor, role, idempotency_key,
                                             method + " " + target, Sha256::Digest(AsBytes(body)));
  Ed25519Signature sig = key.Sign(AsBytes(message));
  return key_id() + ":" + Base64Encode(ByteView(sig.data(), sig.size()));
}

RequestSigner DemoSigner(const std::string& dir, const std::string& actor, fb::Role role) {
  std::string path = dir + ".keys/staff/" + actor + ".key";
  Result<NoteSigner> file = ReadSignerKeyFile(path);
  if (!file.ok()) {  // a key nobody registered: the test's commands fail with unknown_key
    std::fprintf(stderr, "%s: %s\n", path.c_str(), file.status().ToString().c_str());
    return RequestSigner{"demo.fundledger.local", actor, role};
  }
  return RequestSigner{"demo.fundledger.local", actor, role, file->key};
}

using Clock = std::chrono::steady_clock;

struct HttpClient::Impl {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
};

HttpClient::HttpClient(int port, HttpClientOptions options)
    : impl_(std::make_unique<Impl>()), port_(port), options_(std::move(options)) {}
HttpClient::~HttpClient() {
  if (impl_->stream) {
    beast::error_code ec;
    impl_->stream->socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  }
}

HttpResult HttpClient::Request(const std::string& method, const std::string& target,
                               const std::string& token, const std::string& body,
                               const std::string& idempotency_key, const std::string& content_type,
                               const std::string& signature) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    if (!impl_->stream) {
      impl_->stream.emplace(impl_->ioc);
      net::ip::tcp::socket& socket = impl_->stream->socket();
      socket.open(net::ip::tcp::v4(), ec);
      if (!ec && !options_.source_address.empty()) {
        socket.bind(net::ip::tcp::endpoint(net::ip::make_address(options_.source_address), 0), ec);
      }
      impl_->stream->expires_after(options_.timeout);
      if (!ec) {
        impl_->stream->connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                                      static_cast<uint16_t>(port_)),
                               ec);
      }
      if (ec) {
        impl_->stream.reset();
        return {};
      }
    }
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!idempotency_key.empty()) req.set("Idempotency-Key", idempotency_key);
    if (!signature.empty()) req.set("Fundledger-Signature", signature);
    if (!body.empty()) req.set(http::field::content_type, content_type);
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    // The tcp_stream's deadline bounds the write and the read together.
    impl_->stream->expires_after(options_.timeout);
    http::write(*impl_->stream, req, ec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(size_t{1} << 30);
    // Read even when the write failed: a server may answer (413) before taking the whole body.
    beast::error_code read_ec;
    http::read(*impl_->stream, buffer, parser, read_ec);
    if (!read_ec)
      ec = {};
    else if (!ec)
      ec = read_ec;
    if (ec) {
      impl_->stream.reset();  // the server closed an idle connection: reconnect once
      if (attempt == 0 && method == "GET" && ec != beast::error::timeout) continue;
      return {};
    }
    http::response<http::string_body> res = parser.release();
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

RawConnection::RawConnection(int port, const std::string& source_address) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (!source_address.empty()) {
    ::inet_pton(AF_INET, source_address.c_str(), &local.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return;
    }
  }
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
}

RawConnection::~RawConnection() { Close(); }

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::Send(std::string_view bytes) {
  while (fd_ >= 0 && !bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return fd_ >= 0;
}

std::string RawConnection::ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed) {
  std::string out = std::move(pending_);
  pending_.clear();
  if (closed != nullptr) *closed = false;
  const auto deadline = Clock::now() + timeout;
  char buf[16384];
  while (fd_ >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // closed (0) or reset (-1): either way the server is done with us
      if (closed != nullptr) *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string RawConnection::ReadHead(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (fd_ >= 0 && pending_.find("\r\n\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending_.append(buf, static_cast<size_t>(n));
  }
  size_t end = pending_.find("\r\n\r\n");
  std::string head = pending_.substr(0, end == std::string::npos ? pending_.size() : end + 4);
  pending_.erase(0, head.size());
  return head;
}

int StatusOf(std::string_view response) {
  if (!response.starts_with("HTTP/1.") || response.size() < 12) return 0;
  return std::atoi(std::string(response.substr(9, 3)).c_str());
}

ServerProcess::ServerProcess(const std::string& data_dir, const std::string& extra_args)
    : ServerProcess(data_dir, ServerProcessOptions{extra_args, "", true, ""}) {}

ServerProcess::ServerProcess(const std::string& data_dir, const ServerProcessOptions& options) {
  int fds[2];
  if (::pipe(fds) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string cmd = std::string(FUNDLEDGER_CLI_PATH) + " " +
                    (options.command.empty() ? "serve --data " + data_dir : options.command) +
                    " --listen " + options.listen + " " +
                    (options.quiet && options.command.empty() ? "--quiet " : "") +
                    options.extra_args;
  char sh[] = "/bin/sh", dash_c[] = "-c";
  std::string exec_cmd =
      options.shell_setup + (options.shell_setup.empty() ? "" : "; ") + "exec " + cmd;
  char* argv[] = {sh, dash_c, exec_cmd.data(), nullptr};
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  if (options.own_session) posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  if (posix_spawn(&pid_, "/bin/sh", &actions, &attributes, argv, environ) != 0) pid_ = -1;
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  out_fd_ = fds[0];
  // The first line naming 127.0.0.1:PORT ("... on http://127.0.0.1:PORT").
  char c;
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
  // Bounded: a server that does not stop within a minute of SIGTERM is killed (and the test
  // sees the exit code of a signal).
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{out_fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ::kill(pid_, SIGKILL);
      break;
    }
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    output_.append(buf, static_cast<size_t>(n));
  }
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

HttpResult HttpClient::Command(const RequestSigner& signer, fb::EventType type,
                               const std::string& target, const std::string& token,
                               const std::string& body, const std::string& idempotency_key,
                               const std::string& content_type) {
  return Request("POST", target, token, body, idempotency_key, content_type,
                 signer.Header(type, idempotency_key, "POST", target, body));
}

std::map<std::string, std::string> DemoTokens(const std::string& demo_output) {
  std::map<std::string, std::string> tokens;
  std::istringstream lines(demo_output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string word, role, actor, token;
    if (words >> word >> role >> actor >> token && word == "token") tokens[role] = token;
  }
  return tokens;
}

uint64_t ResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

}  // namespace fundledger::testing
