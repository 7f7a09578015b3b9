#include "api/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "ledger/entry_codec.h"

namespace fundledger {
namespace {

constexpr size_t kTailBytesMax = 1 << 20;  // what Tail reads from the end of the file

}  // namespace

Status AccessLog::Record(const Principal& who, std::string_view search, uint64_t results,
                         int64_t ts_ms) {
  boost::json::object line{{"ts_ms", ts_ms},
                           {"actor", who.actor},
                           {"role", RoleName(who.role)},
                           {"search", search},
                           {"results", results}};
  std::string text = boost::json::serialize(line) + "\n";
  MutexLock lock(mu_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot open the access log " + path_ + ": " + std::strerror(errno));
  ssize_t written = ::write(fd, text.data(), text.size());
  int synced = ::fdatasync(fd);
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()) || synced != 0)
    return IoError("cannot record the search in the access log " + path_);
  return Status::Ok();
}

Result<std::string> AccessLog::Tail(size_t lines_max) const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return std::string();
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  const size_t start = size > kTailBytesMax ? size - kTailBytesMax : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (start > 0) text.erase(0, text.find('\n') + 1);  // a partial first line
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl == std::string_view::npos ? rest.size() : nl + 1));
    rest.remove_prefix(lines.back().size());
  }
  std::string out;
  for (size_t i = lines.size() > lines_max ? lines.size() - lines_max : 0; i < lines.size(); ++i)
    out += lines[i];
  return out;
}

}  // namespace fundledger
