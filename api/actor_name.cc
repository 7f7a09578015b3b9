#include "api/actor_name.h"

#include "ledger/entry_codec.h"

namespace fundledger {

static_assert(kActorNameBytesMax == kActorBytesMax, "the API and the log agree on an actor's size");

// The ledger's one normal form (ledger/entry_codec.h), with the error naming the caller's field.
Result<std::string> NormalizeActor(std::string_view text, std::string_view field) {
  Result<std::string> name = NormalizeActorName(text);
  if (name.ok()) return name;
  return InvalidArgument("'" + std::string(field) + "': " + name.status().message() +
                         " (a Chinese name in pinyin, e.g. li.ming)")
      .WithField(std::string(field));
}

}  // namespace fundledger
