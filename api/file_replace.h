// ReplaceFile: writes a whole file so that a crash leaves either the old content or the new,
// never a mix: the text goes to <path>.tmp (created with `mode`), is fsynced, then renamed
// over <path>. For the small files the API keeps beside the store: the token table and
// published disclosure reports. `what` names the file in the error ("the token table").
//
//   FL_RETURN_IF_ERROR(ReplaceFile(dir + "/tokens", text, 0600, "the token table"));
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

Status ReplaceFile(const std::string& path, std::string_view text, mode_t mode,
                   std::string_view what);

}  // namespace fundledger
