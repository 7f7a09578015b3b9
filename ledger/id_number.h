// What the ledger reads from a resident ID number (GB 11643) before the vault commits to it:
// 18 characters, the 6-digit region, the birth date yyyymmdd (digits 7-14), a 3-digit
// sequence and the ISO 7064 MOD 11-2 check character (0-9 or X).
//
// Registration takes the birth date from here rather than from what was typed, so age limits
// read the source (ledger/README.md, "Age").
//
//   Result<int32_t> born = IdNumberBirthDate("11010519491231002X");  // 19491231
#pragma once

#include <cstdint>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

// The birth date (yyyymmdd) an ID number carries, once its check character is right; an
// invalid_argument on field `id_number` otherwise, or if digits 7-14 are not a date.
Result<int32_t> IdNumberBirthDate(std::string_view id_number);

}  // namespace fundledger
