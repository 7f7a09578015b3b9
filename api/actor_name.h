// ActorName: who acted, normalised once where a name enters (token table, `token add` and
// `token revoke`, the CLI's --actor), so one person is one string everywhere the API hands an
// actor to the ledger: `CLERK.LI`, ` clerk.li ` and `clerk.li` are the same person.
//
// The form is the ledger's own (NormalizeActorName in ledger/entry_codec.h): normalising trims
// ASCII white space and lower-cases ASCII letters. A name is then 1..128
// characters from a-z 0-9 . _ - @. Anything else, non-ASCII included, is refused rather than
// folded: Unicode has no single case folding or normal form that every tool agrees on, and
// look-alike letters would make two people of one ("clerk.li" with a Cyrillic "і"). A Chinese
// name is written in pinyin ("li.ming").
//
//   FL_ASSIGN_OR_RETURN(std::string actor, NormalizeActor(flag_text, "actor"));
#pragma once

#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

inline constexpr size_t kActorNameBytesMax = 128;

// The normalised name, or InvalidArgument naming `field`.
Result<std::string> NormalizeActor(std::string_view text, std::string_view field = "actor");

}  // namespace fundledger
