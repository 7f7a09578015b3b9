// The ledger's signing key on disk: one line, the C2SP signer-key string, mode 0600; and the
// checks every file or directory holding a secret passes before it is trusted.
//
// The key file is created with O_EXCL and mode 0600 before any byte is written, so the secret
// is never readable by others, not even briefly. A secret file (this key, the vault key, the
// token table) is trusted only when it is a regular file owned by this process's user with no
// permission for group or others; the directory holding them only when it is owned by this
// user and writable by no one else. Anything else is refused with a message saying what to
// run (chown / chmod), because another user who can write it can replace the secret.
//
//   FL_RETURN_IF_ERROR(CheckPrivateDirectory(dir, "the data directory"));
//   FL_RETURN_IF_ERROR(CheckSecretFile(dir + "/tokens", "the token table"));
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "crypto/note.h"

namespace fundledger {

Status WriteSignerKeyFile(const std::string& path, const NoteSigner& signer);
Result<NoteSigner> ReadSignerKeyFile(const std::string& path);

// `st` is the file's stat; `what` names it in the error ("the token table").
Status CheckSecretFile(const struct stat& st, const std::string& path, std::string_view what);
// Stats `path` (following symlinks: the file they name is what gets read).
Status CheckSecretFile(const std::string& path, std::string_view what);
Status CheckPrivateDirectory(const std::string& path, std::string_view what);

}  // namespace fundledger
