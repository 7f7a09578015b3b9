#include "witness/text_file.h"

#include <fstream>

namespace fundledger {

Result<std::string> ReadTextFile(const std::string& path, size_t bytes_max, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open the " + std::string(what) + " " + path);
  std::string text(bytes_max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return IoError("cannot read the " + std::string(what) + " " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > bytes_max) {
    return TooLarge("the " + std::string(what) + " " + path + " is over " +
                    std::to_string(bytes_max) + " bytes");
  }
  return text;
}

Status ForEachLine(std::string_view text,
                   const std::function<Status(std::string_view line, uint64_t number)>& visit) {
  for (uint64_t number = 1; !text.empty(); ++number) {
    size_t eol = text.find('\n');
    FL_RETURN_IF_ERROR(visit(text.substr(0, eol), number));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }
  return Status::Ok();
}

Status InFile(const std::string& path, const Status& status) {
  Status in_file(status.code(), path + ": " + status.message());
  in_file.WithLine(status.line());
  return in_file;
}

}  // namespace fundledger
