#include "api/actor_name.h"

#include "ledger/entry_codec.h"

namespace fundledger {

static_assert(kActorNameBytesMax <= kActorBytesMax, "a normalised actor fits the log's field");

Result<std::string> NormalizeActor(std::string_view text, std::string_view field) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  auto refuse = [&](std::string why) {
    return InvalidArgument("'" + std::string(field) + "' " + why).WithField(std::string(field));
  };
  if (text.empty()) return refuse("is empty");
  if (text.size() > kActorNameBytesMax) return refuse("is longer than 128 characters");
  std::string name;
  name.reserve(text.size());
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                   c == '-' || c == '@';
    if (!allowed) {
      return refuse(
          "may hold only ASCII letters, digits and . _ - @ (a Chinese name in pinyin, e.g. "
          "li.ming)");
    }
    name += c;
  }
  return name;
}

}  // namespace fundledger
