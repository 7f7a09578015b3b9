// The ledger's signing key on disk: one line, the C2SP signer-key string, mode 0600.
//
// The file is created with O_EXCL and mode 0600 before any byte is written, so the secret is
// never readable by others, not even briefly. Reading refuses a file others can read.
#pragma once

#include <string>

#include "crypto/note.h"

namespace fundledger {

Status WriteSignerKeyFile(const std::string& path, const NoteSigner& signer);
Result<NoteSigner> ReadSignerKeyFile(const std::string& path);

}  // namespace fundledger
